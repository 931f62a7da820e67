package org.lkmpre.preresolve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lkmpre.internal.NativeFiles;
import org.lkmpre.internal.NativeWalk;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.testing.Fixtures;
import static org.lkmpre.testing.Outcomes.patched;

class ModuleTreeTest {
    @TempDir
    Path tmp;

    /**
     * A backend with a whole-file run that records what it is given and leaves every file to the
     * per-module path (the Java reference's).
     */
    private static final class Recording implements Backend, NativeFiles {
        final Preresolver java;
        final List<List<Path>> calls = new ArrayList<>();
        final List<Boolean> writes = new ArrayList<>();
        /** Calls from this one on wait for {@link #open} (or an interrupt, or ten seconds) before they return. */
        final int gatedFrom;
        final CountDownLatch open = new CountDownLatch(1);

        Recording(Preresolver java) {
            this(java, Integer.MAX_VALUE);
        }

        Recording(Preresolver java, int gatedFrom) {
            this.java = java;
            this.gatedFrom = gatedFrom;
        }

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public KernelSymbols kernel() {
            return java.kernel();
        }

        @Override
        public Outcome preresolve(String path, byte[] data) {
            return java.preresolve(path, data);
        }

        @Override
        public List<Optional<ModuleReport>> preresolveFiles(List<Path> files, List<String> names,
                                                            boolean write, int threads) {
            int call;
            synchronized (this) {
                call = calls.size();
                calls.add(files);
                writes.add(write);
            }
            if (call >= gatedFrom) {
                try {
                    open.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // the batch is finished all the same, as the C core's would be
                }
            }
            return Collections.nCopies(files.size(), Optional.empty());
        }
    }

    /**
     * Interrupting the caller cancels the run, and nothing is written after. Renaming, every module
     * is its old or its new file; patching in place (the default), a module may be left in one of
     * the protocol's intermediate states, which the next run finishes. A backend's whole-file run
     * finishes the batches under way (they cannot be interrupted) and starts no other: its third
     * and later calls are held until the run is over, so that the caller's cancellation always
     * comes while two batches are under way, however slowly the caller is scheduled.
     */
    @ParameterizedTest
    @ValueSource(strings = {"rename", "in place", "whole-file run"})
    void interruptCancelsATreeRun(String mode) throws Exception {
        Path good = Fixtures.module("fx_good");
        byte[] before = Files.readAllBytes(good);
        int modules = mode.equals("whole-file run") ? 1200 : 400; // more than the two batches under way
        for (int i = 0; i < modules; i++) {
            Files.copy(good, tmp.resolve("m" + i + ".ko"));
        }
        Preresolver reference = Preresolver.create(new Vmlinux(Fixtures.vmlinux()).read(), PreresolveOptions.DEFAULTS);
        Backend java = mode.equals("whole-file run") ? new Recording(reference, 2) : reference;
        boolean rename = mode.equals("rename");
        byte[] after = patched(reference.preresolve("m.ko", before), before);
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
                if (java instanceof Recording r) {
                    r.open.countDown();
                }
            }
        });
        assertTrue(stillInterrupted.get(), "the interrupt status is kept");
        assertTrue(e.getMessage().matches("cancelled after \\d+ of " + modules + " modules"), e.getMessage());
        if (java instanceof Recording r) {
            assertTrue(!r.calls.isEmpty() && r.calls.size() < 5, "batches run: " + r.calls.size() + " of 5");
        }
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
        assertEquals(modules, tree.targets().size());
        tree.run(java, false, 2, r -> { });
        for (ModuleTree.Target t : tree.targets()) {
            assertArrayEquals(after, Files.readAllBytes(t.source()), t.name() + " after the next run");
        }
    }

    /**
     * A backend with a whole-file run gets exactly the plain modules that are written in place
     * (or not written at all), in target order, in batches; a module it leaves to the per-module
     * path is done there. Renaming and compressed modules never go to it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"in place", "dry run", "rename"})
    void wholeFileRunTakesThePlainModulesWrittenWhereTheyLie(String mode) throws Exception {
        Path good = Fixtures.module("fx_good");
        Path plain = Files.createDirectories(tmp.resolve("plain"));
        Path mirror = Files.createDirectories(tmp.resolve("mirror"));
        for (int i = 0; i < 600; i++) {
            Files.copy(good, plain.resolve(String.format("m%03d.ko", i)));
            Files.copy(good, mirror.resolve(String.format("m%03d.ko", i)));
        }
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
            out.write(Files.readAllBytes(good));
        }
        Files.write(plain.resolve("m300.ko.gz"), gz.toByteArray());
        Files.write(mirror.resolve("m300.ko.gz"), gz.toByteArray());
        Preresolver java = Preresolver.create(new Vmlinux(Fixtures.vmlinux()).read(), PreresolveOptions.DEFAULTS);
        boolean dry = mode.equals("dry run");
        ModuleTree tree = ModuleTree.collect(List.of(plain), Optional.empty());
        tree = mode.equals("rename") ? tree.renamingInPlace() : tree;
        Recording recording = new Recording(java);
        Report recorded = tree.run(recording, dry, 2, r -> { });
        Report reference = ModuleTree.collect(List.of(mirror), Optional.empty()).run(java, dry, 2, r -> { });

        assertEquals(reference.modules(), recorded.modules());
        for (int i = 0; i < 600; i++) {
            String name = String.format("m%03d.ko", i);
            assertArrayEquals(Files.readAllBytes(mirror.resolve(name)), Files.readAllBytes(plain.resolve(name)), name);
        }
        List<List<Path>> calls = recording.calls;
        // Two batches may run at once, so the calls come in either order; each batch is a run of targets.
        List<Path> asked = calls.stream().sorted(Comparator.comparing((List<Path> c) -> c.get(0)))
                .flatMap(List::stream).toList();
        if (mode.equals("rename")) {
            assertEquals(List.of(), asked);
            return;
        }
        List<Path> plainModules = tree.targets().stream().map(ModuleTree.Target::source)
                .filter(f -> f.toString().endsWith(".ko")).toList();
        assertTrue(plainModules.equals(asked), "every plain module once, in batches of consecutive targets, and no"
                + " compressed one: asked " + asked.size() + " of " + plainModules.size());
        assertTrue(calls.size() >= 3 && calls.stream().allMatch(c -> c.size() <= 256), "batches: " + calls.size());
        assertEquals(List.of(!dry), recording.writes.stream().distinct().toList());
    }

    /**
     * A walk in the C library (here, one that answers what Java's walk finds) makes the tree Java's
     * walk makes: each file once, whether named in two directories, through a hard link or on its
     * own (its key then read through Java), and a killed run's temporary file among the leftovers;
     * a walk the library leaves to Java gives Java's tree.
     */
    @org.junit.jupiter.api.Test
    void aTreeWalkedInTheCLibraryIsTheTreeWalkedInJava() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("walked"));
        for (String f : List.of("a.ko", "a-b/y.ko", "a/x.ko.xz", "a/sub/z.ko", "notes.txt")) {
            Files.createDirectories(root.resolve(f).getParent());
            Files.write(root.resolve(f), new byte[f.length()]);
        }
        Files.createLink(root.resolve("a-b/hard.ko"), root.resolve("a.ko"));
        Path leftover = Files.write(root.resolve("a/.x.ko.lkmpre-2147483647-1.tmp"), new byte[1]);
        NativeWalk byJava = top -> {
            List<NativeWalk.Found> found = new ArrayList<>();
            try (var all = Files.walk(top)) {
                for (Path f : all.filter(Files::isRegularFile).sorted().toList()) {
                    Map<String, Object> a = Files.readAttributes(f, "unix:dev,ino,size");
                    String name = top.relativize(f).toString();
                    if (!name.endsWith(".txt")) {
                        found.add(new NativeWalk.Found(name, (Long) a.get("size"), (Long) a.get("dev"), (Long) a.get("ino"),
                                !name.endsWith(".tmp")));
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return Optional.of(found);
        };
        List<Path> named = List.of(root, root.resolve("a"), root.resolve("a/sub/z.ko"));
        ModuleTree inJava = ModuleTree.collect(named, Optional.empty(), Optional.empty()).orElseThrow();
        ModuleTree inC = ModuleTree.collect(named, Optional.empty(), Optional.of(byJava)).orElseThrow();
        assertEquals(List.of("a-b/hard.ko", "a-b/y.ko", "a/sub/z.ko", "a/x.ko.xz"),
                inJava.targets().stream().map(ModuleTree.Target::name).toList());
        assertEquals(inJava.targets(), inC.targets());
        assertEquals(List.of(leftover, leftover), inC.leftovers()); // found under both directories named
        assertEquals(inJava.leftovers(), inC.leftovers());
        assertEquals(Optional.empty(), ModuleTree.collect(named, Optional.empty(), Optional.of(top -> Optional.empty())));
    }
}
