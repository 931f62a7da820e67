package org.lkmpre.preresolve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.testing.Fixtures;
import static org.lkmpre.testing.Outcomes.patched;

class ModuleTreeTest {
    @TempDir
    Path tmp;

    /** Interrupting the caller cancels the run; every module is its old or its new file, and nothing is written after. */
    @Test
    void interruptCancelsATreeRun() throws Exception {
        Path good = Fixtures.module("fx_good");
        byte[] before = Files.readAllBytes(good);
        for (int i = 0; i < 400; i++) {
            Files.copy(good, tmp.resolve("m" + i + ".ko"));
        }
        Preresolver java = Preresolver.create(new Vmlinux(Fixtures.vmlinux()).read(), PreresolveOptions.DEFAULTS);
        byte[] after = patched(java.preresolve("m.ko", before), before);
        ModuleTree tree = ModuleTree.collect(List.of(tmp), Optional.empty());

        AtomicInteger progress = new AtomicInteger();
        Thread caller = Thread.currentThread();
        CompletableFuture<Boolean> stillInterrupted = new CompletableFuture<>();
        CancellationException e = assertThrows(CancellationException.class, () -> {
            try {
                tree.run(java, false, 2, r -> {
                    if (progress.incrementAndGet() == 10) {
                        caller.interrupt();
                    }
                });
            } finally {
                stillInterrupted.complete(Thread.interrupted());
            }
        });
        assertTrue(stillInterrupted.get(), "the interrupt status is kept");
        assertTrue(e.getMessage().matches("cancelled after \\d+ of 400 modules"), e.getMessage());
        Map<Boolean, Integer> counts = new HashMap<>();
        Map<String, byte[]> snapshot = new HashMap<>();
        for (ModuleTree.Target t : tree.targets()) {
            byte[] now = Files.readAllBytes(t.source());
            snapshot.put(t.name(), now);
            boolean isNew = Arrays.equals(now, after);
            assertTrue(isNew || Arrays.equals(now, before), t.name() + " is neither old nor new");
            counts.merge(isNew, 1, Integer::sum);
        }
        assertTrue(counts.getOrDefault(false, 0) > 0 && counts.getOrDefault(true, 0) >= 10, counts.toString());
        Thread.sleep(200);
        for (ModuleTree.Target t : tree.targets()) {
            assertArrayEquals(snapshot.get(t.name()), Files.readAllBytes(t.source()), "written after the cancellation");
        }
        assertEquals(400, tree.targets().size());
    }
}
