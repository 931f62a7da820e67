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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.testing.Fixtures;
import static org.lkmpre.testing.Outcomes.patched;

class ModuleTreeTest {
    @TempDir
    Path tmp;

    /**
     * Interrupting the caller cancels the run, and nothing is written after. Renaming, every module
     * is its old or its new file; patching in place (the default), a module may be left in one of
     * the protocol's intermediate states, which the next run finishes.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void interruptCancelsATreeRun(boolean rename) throws Exception {
        Path good = Fixtures.module("fx_good");
        byte[] before = Files.readAllBytes(good);
        for (int i = 0; i < 400; i++) {
            Files.copy(good, tmp.resolve("m" + i + ".ko"));
        }
        Preresolver java = Preresolver.create(new Vmlinux(Fixtures.vmlinux()).read(), PreresolveOptions.DEFAULTS);
        byte[] after = patched(java.preresolve("m.ko", before), before);
        ModuleTree collected = ModuleTree.collect(List.of(tmp), Optional.empty());
        ModuleTree tree = rename ? collected.renamingInPlace() : collected;

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
            assertTrue(isNew || Arrays.equals(now, before) || !rename, t.name() + " is neither old nor new");
            counts.merge(isNew, 1, Integer::sum);
        }
        assertTrue(counts.getOrDefault(false, 0) > 0 && counts.getOrDefault(true, 0) >= 10, counts.toString());
        Thread.sleep(200);
        for (ModuleTree.Target t : tree.targets()) {
            assertArrayEquals(snapshot.get(t.name()), Files.readAllBytes(t.source()), "written after the cancellation");
        }
        assertEquals(400, tree.targets().size());
        tree.run(java, false, 2, r -> { });
        for (ModuleTree.Target t : tree.targets()) {
            assertArrayEquals(after, Files.readAllBytes(t.source()), t.name() + " after the next run");
        }
    }
}
