package org.lkmpre.preresolve;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfPatch;
import org.lkmpre.internal.NativeFiles;
import org.lkmpre.internal.NativeWalk;
import org.lkmpre.module.ModuleCompression;
import org.lkmpre.module.ModuleSigner;
import org.lkmpre.module.UndoRecord;

/**
 * A set of module files to preresolve ({@code .ko}, or compressed {@code .ko.xz}, {@code .ko.zst},
 * {@code .ko.gz}, rewritten in the same format), named on the command line as modules or
 * directories, and where each result goes. Directories are walked recursively (symbolic links are not
 * followed), in sorted order so that output is stable.
 */
public final class ModuleTree {
    /**
     * One module to process.
     *
     * @param source      the module file
     * @param name        its name in output: relative to the directory it was found in, or as given
     * @param destination where the patched module is written (the source itself when in place)
     */
    public record Target(Path source, String name, Path destination) {
        /**
         * @return the module's ELF bytes: the file, decompressed when it is compressed
         * @throws IOException          if the file cannot be read
         * @throws InputFormatException if it does not decompress
         */
        public byte[] readPlain() throws IOException {
            byte[] raw = Files.readAllBytes(source);
            return ModuleCompression.detect(name, raw).decompress(name, raw);
        }
    }

    /** Names {@link #writeAtomically} gives its temporary files: {@code .NAME.lkmpre-PID-THREAD.tmp}. */
    private static final Pattern TEMPORARY = Pattern.compile("\\..+\\.lkmpre-(\\d+)-\\d+\\.tmp");

    private final List<Target> targets;
    private final Optional<ModuleSigner> signer;
    /** Temporary files of a run that was killed mid-write, found in the directories walked. */
    private final List<Path> leftovers;
    /** In place, a new copy renamed over each module instead of a patch where it lies. */
    private final boolean rename;

    /** The largest module file when the tree was collected: each worker's read buffer, allocated once. */
    private final long largest;

    private ModuleTree(List<Target> targets, Optional<ModuleSigner> signer, List<Path> leftovers, boolean rename,
                       long largest) {
        this.targets = List.copyOf(targets);
        this.signer = signer;
        this.leftovers = List.copyOf(leftovers);
        this.rename = rename;
        this.largest = largest;
    }

    /**
     * @param signer signs every module this tree writes (after preresolving, before compressing)
     * @return the same tree, signing what it writes
     */
    public ModuleTree signWith(ModuleSigner signer) {
        return new ModuleTree(targets, Optional.of(signer), leftovers, rename, largest);
    }

    /**
     * Modules rewritten where they are then get a new copy renamed over each (a reader sees the old
     * module or the new one, never a state between), instead of the default: a plain module
     * written in place without re-signing gets only the bytes that change, in an order that keeps
     * the file a correct, loadable module at every step (lkmpre-tree's protocol, docs/native.md),
     * so a reader may see such a state and a killed run is finished by the next. Renaming costs
     * about what copying the tree costs (ext4 writes out a file renamed over another at once).
     *
     * @return the same tree, renaming new copies over modules written in place
     */
    public ModuleTree renamingInPlace() {
        return new ModuleTree(targets, signer, leftovers, true, largest);
    }

    /** @return temporary files of a killed run that {@link #run} removes (for tests) */
    List<Path> leftovers() {
        return leftovers;
    }

    /** @return the modules, in processing order */
    public List<Target> targets() {
        return targets;
    }

    /**
     * Collects the modules under {@code paths}, as {@link #collect(List, Optional, String)} with the
     * automatic backend.
     *
     * @param paths  module files and directories
     * @param outDir where to write results, mirroring each directory's layout; empty for in place
     * @return the tree
     * @throws IOException          if a directory cannot be walked (unreadable, or deeper than the
     *                              system's path length limit)
     * @throws InputFormatException if a path does not exist or is neither a file nor a directory
     */
    public static ModuleTree collect(List<Path> paths, Optional<Path> outDir) throws IOException {
        return collect(paths, outDir, "auto");
    }

    /**
     * Collects the modules under {@code paths}. Directories are walked by the C library where the
     * backend {@code backend} names has a walk there (the FFM binding's, {@link NativeWalk}: the
     * same files, in a fifth of the time), else in Java ("java" loads no native code).
     *
     * @param paths   module files and directories
     * @param outDir  where to write results, mirroring each directory's layout; empty for in place
     * @param backend the backend the tree will be run with, as {@link Backends#open} takes it
     * @return the tree
     * @throws IOException          if a directory cannot be walked (unreadable, or deeper than the
     *                              system's path length limit)
     * @throws InputFormatException if a path does not exist or is neither a file nor a directory
     */
    public static ModuleTree collect(List<Path> paths, Optional<Path> outDir, String backend) throws IOException {
        Optional<NativeWalk> walk = Backends.nativeWalk(backend);
        if (walk.isPresent()) {
            Optional<ModuleTree> tree = collect(paths, outDir, walk);
            if (tree.isPresent()) {
                return tree.get();
            }
        }
        return collect(paths, outDir, Optional.empty()).orElseThrow();
    }

    /**
     * Collects the modules under {@code paths}, walking directories with {@code walk} if given.
     *
     * @return the tree; empty where {@code walk} leaves a directory to Java (every directory is then
     *         walked in Java, so that all the files' keys are of one kind)
     */
    static Optional<ModuleTree> collect(List<Path> paths, Optional<Path> outDir, Optional<NativeWalk> walk)
            throws IOException {
        List<Target> targets = new ArrayList<>();
        List<Path> leftovers = new ArrayList<>();
        long largest = 0; // the largest file seen, to size the read buffers once
        // In place, a file named twice (overlapping paths, hard links) is one module, patched once.
        Set<Object> seen = new HashSet<>();
        Predicate<Object> first = key -> outDir.isPresent() || seen.add(key);
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                Path root = p.toRealPath(); // a directory named through a link is walked; links under it are not
                List<Found> found = new ArrayList<>();
                if (walk.isEmpty()) {
                    walkInJava(root, found, leftovers);
                } else if (!walkNatively(walk.get(), root, found, leftovers)) {
                    return Optional.empty();
                }
                found.sort(Comparator.comparing(Found::path)); // the C library's order already: one pass
                for (Found f : found) {
                    largest = Math.max(largest, f.size());
                    if (first.test(f.key())) {
                        targets.add(new Target(f.path(), f.name(), outDir.map(o -> o.resolve(f.name())).orElse(f.path())));
                    }
                }
            } else if (Files.isRegularFile(p)) {
                Path real = p.toRealPath();
                if (!first.test(walk.isEmpty() ? fileKey(real) : deviceAndInode(real))) {
                    continue;
                }
                targets.add(new Target(real, p.toString(), outDir.map(o -> o.resolve(p.getFileName().toString())).orElse(real)));
                largest = Math.max(largest, Files.size(real));
            } else {
                throw new InputFormatException(p.toString(), whyUnusable(p));
            }
        }
        return Optional.of(new ModuleTree(targets, Optional.empty(), leftovers, false, largest));
    }

    /**
     * A module file found in a directory, its name below the directory, what identifies it
     * (device and inode, else its path), and its size.
     */
    private record Found(Path path, String name, Object key, long size) {
    }

    /**
     * A file's device and inode, as the C library's walk gives them. Its own equals and hashCode:
     * a record's are bootstrapped (invokedynamic) on first use, a few milliseconds of a run's start.
     */
    private record DeviceAndInode(long device, long inode) {
        @Override
        public boolean equals(Object o) {
            return o instanceof DeviceAndInode k && k.device == device && k.inode == inode;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(device) * 31 + Long.hashCode(inode);
        }
    }

    /** Walks {@code root} in Java: a directory that cannot be read, or a path longer than PATH_MAX, throws. */
    private static void walkInJava(Path root, List<Found> found, List<Path> leftovers) throws IOException {
        // Each path found is ROOT/NAME: NAME is what follows ROOT's own text and its slash.
        int nameAt = root.toString().length() + (root.getParent() == null ? 0 : 1);
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                if (!a.isRegularFile()) {
                    return FileVisitResult.CONTINUE;
                }
                if (ModuleCompression.isModuleName(f.getFileName().toString())) {
                    found.add(new Found(f, f.toString().substring(nameAt), a.fileKey() != null ? a.fileKey() : f, a.size()));
                } else if (isLeftover(f)) {
                    leftovers.add(f);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Walks {@code root} with the C library: false where it leaves the walk to Java. */
    private static boolean walkNatively(NativeWalk walk, Path root, List<Found> found, List<Path> leftovers) {
        if (!NativeWalk.isAscii(root.toString())) {
            return false;
        }
        Optional<List<NativeWalk.Found>> files = walk.walk(root);
        if (files.isEmpty()) {
            return false;
        }
        for (NativeWalk.Found f : files.get()) {
            Path path = root.resolve(f.name());
            if (f.module()) {
                found.add(new Found(path, f.name(), new DeviceAndInode(f.device(), f.inode()), f.size()));
            } else if (isLeftover(path)) {
                leftovers.add(path);
            }
        }
        return true;
    }

    /** @return the file's device and inode, as the C library's walk reports them, read through Java */
    private static Object deviceAndInode(Path f) {
        try {
            Map<String, Object> a = Files.readAttributes(f, "unix:dev,ino");
            return new DeviceAndInode((Long) a.get("dev"), (Long) a.get("ino"));
        } catch (IOException | UnsupportedOperationException e) {
            return f; // unreadable: processing it reports why
        }
    }

    /** @return what identifies the file (device and inode), or its real path where the system has no key */
    private static Object fileKey(Path f) {
        try {
            Object key = Files.readAttributes(f, BasicFileAttributes.class).fileKey();
            return key != null ? key : f.toRealPath();
        } catch (IOException e) {
            return f; // unreadable: processing it reports why
        }
    }

    /** @return true for a temporary file of {@link #writeAtomically} whose process is gone */
    private static boolean isLeftover(Path file) {
        Matcher m = TEMPORARY.matcher(file.getFileName().toString());
        if (!m.matches()) {
            return false;
        }
        try {
            return ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty();
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Why a path argument is neither a regular file nor a directory (following links). */
    private static String whyUnusable(Path p) {
        try {
            Files.readAttributes(p, BasicFileAttributes.class);
            return "neither a module nor a directory";
        } catch (NoSuchFileException e) {
            return "no such file or directory";
        } catch (FileSystemException e) {
            return e.getReason() != null ? e.getReason() : e.getClass().getSimpleName(); // e.g. a symbolic link loop
        } catch (IOException e) {
            return e.toString();
        }
    }

    /**
     * Preresolves every module and writes each result unless {@code dryRun}: a plain module in
     * place by patching it where it lies (unless {@link #renamingInPlace()}), anything else
     * through a temporary file renamed over the destination. A module that cannot be read, or
     * whose write fails, gets a {@link ModuleStatus#FAILED} report; the others are still
     * processed. Temporary files that a killed run left in the directories walked are removed
     * first. A native backend does the plain modules it writes where they lie (or all plain
     * modules, in a dry run) in the C core's whole-file run, a batch of files per call on the
     * core's own threads; the result is the same, byte for byte and word for word.
     *
     * <p>Interrupting the calling thread cancels the run: modules not started are left alone
     * (batches of the whole-file run under way are finished: the C core cannot be interrupted),
     * the workers are stopped and waited for, and this method throws
     * {@link CancellationException} with the thread's interrupt status set. Every module is then
     * its old file or its new one (patching in place: or a state the next run finishes).
     *
     * @param backend     the backend that preresolves each module
     * @param dryRun      decide and report, but write nothing
     * @param threads     how many modules to process at once (at least 1)
     * @param onModule    called with each report, in target order, as soon as it is known
     * @return the reports, in target order
     * @throws CancellationException if the calling thread was interrupted
     */
    public Report run(Backend backend, boolean dryRun, int threads, Consumer<ModuleReport> onModule) {
        Objects.requireNonNull(onModule);
        if (!dryRun) {
            for (Path f : leftovers) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // Litter, not damage: the modules themselves were never partly written.
                }
            }
        }
        ExecutorService pool = workers(threads);
        // Plain modules in place or dry go to the C core's whole-file run where the backend has
        // one, a batch at a time (output keeps coming, cancelling stops between batches). Two
        // threads call it, so that one decodes its results while the other's batch runs; the
        // core runs its own threads.
        Optional<NativeFiles> files = signer.isEmpty() && !rename && backend instanceof NativeFiles f
                ? Optional.of(f) : Optional.empty();
        ExecutorService batches = workers(2);
        try {
            List<Future<ModuleReport>> futures = new ArrayList<>(Collections.nCopies(targets.size(), null));
            ThreadLocal<ModuleBuffer> buffers = ThreadLocal.withInitial(() -> new ModuleBuffer(largest));
            List<Integer> batch = new ArrayList<>(); // positions in targets
            for (int i = 0; i < targets.size(); i++) {
                Target t = targets.get(i);
                if (files.isPresent() && byFile(t, dryRun)) {
                    batch.add(i);
                    if (batch.size() == BATCH) {
                        submit(files.get(), backend, batch, dryRun, threads, batches, buffers, futures);
                    }
                } else {
                    futures.set(i, pool.submit(() -> process(backend, t, dryRun, buffers.get())));
                }
            }
            if (!batch.isEmpty()) {
                submit(files.get(), backend, batch, dryRun, threads, batches, buffers, futures);
            }
            List<ModuleReport> reports = new ArrayList<>(targets.size());
            for (Future<ModuleReport> f : futures) {
                ModuleReport r;
                try {
                    r = f.get();
                } catch (InterruptedException e) {
                    stop(batches);
                    stop(pool);
                    Thread.currentThread().interrupt();
                    throw new CancellationException("cancelled after " + reports.size() + " of " + targets.size() + " modules");
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e.getCause());
                }
                onModule.accept(r);
                reports.add(r);
            }
            return new Report(backend.kernel().origin(), backend.kernel().identity(), reports);
        } finally {
            pool.shutdownNow();
            batches.shutdownNow();
        }
    }

    /** Modules in one call of the C core's whole-file run: enough to keep its threads busy, few enough to report as it goes. */
    private static final int BATCH = 256;

    /** @return a pool of daemon threads */
    private static ExecutorService workers(int threads) {
        return Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "lkmpre-worker");
            t.setDaemon(true);
            return t;
        });
    }

    /** @return true if the C core's whole-file run can do the module: a plain module (by name) in place, or a dry run */
    private static boolean byFile(Target t, boolean dryRun) {
        return t.source().getFileName().toString().endsWith(".ko") && (dryRun || t.destination().equals(t.source()));
    }

    /**
     * Submits the targets at positions {@code batch} (and empties it) to the whole-file run,
     * setting their futures. A module the run leaves to the per-module path is done again on the
     * same thread.
     */
    private void submit(NativeFiles files, Backend backend, List<Integer> batch, boolean dryRun, int threads,
                        ExecutorService batches, ThreadLocal<ModuleBuffer> buffers, List<Future<ModuleReport>> futures) {
        List<Target> mine = batch.stream().map(targets::get).toList();
        CompletableFuture<List<ModuleReport>> done = CompletableFuture.supplyAsync(() -> {
            List<Optional<ModuleReport>> got = files.preresolveFiles(mine.stream().map(Target::source).toList(),
                    mine.stream().map(Target::name).toList(), !dryRun, threads);
            if (Thread.currentThread().isInterrupted()) {
                throw new CancellationException(); // the run was cancelled while the batch ran: redo nothing
            }
            List<ModuleReport> reports = new ArrayList<>(mine.size());
            for (int i = 0; i < mine.size(); i++) {
                Target t = mine.get(i);
                reports.add(got.get(i).orElseGet(() -> process(backend, t, dryRun, buffers.get())));
            }
            return reports;
        }, batches);
        for (int i = 0; i < batch.size(); i++) {
            int k = i;
            futures.set(batch.get(i), done.thenApply(r -> r.get(k)));
        }
        batch.clear();
    }

    /** Stops the workers and waits until none is writing. */
    private static void stop(ExecutorService pool) {
        pool.shutdownNow();
        while (true) {
            try {
                if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
                    return;
                }
            } catch (InterruptedException again) {
                // Still waiting: returning while a worker renames a file would break the promise.
            }
        }
    }

    /**
     * Preresolves one module. A run that writes the module where it lies holds its
     * {@link ModuleLock} from before it reads the module until after its last write, so a module
     * another run finished meanwhile is read as it left it (and reported already preresolved).
     */
    private ModuleReport process(Backend backend, Target t, boolean dryRun, ModuleBuffer buffer) {
        ModuleLock lock;
        try {
            lock = !dryRun && t.destination().equals(t.source()) ? ModuleLock.acquire(t.source()) : null;
        } catch (IOException e) {
            return ModuleReport.notPatched(t.name(), ModuleStatus.FAILED, "cannot lock: " + e.getMessage());
        }
        try (lock) {
            try {
                if (lock != null) {
                    buffer.read(lock.channel());
                } else {
                    try (FileChannel in = FileChannel.open(t.source(), StandardOpenOption.READ)) {
                        buffer.read(in);
                    }
                }
            } catch (IOException e) {
                return ModuleReport.notPatched(t.name(), ModuleStatus.FAILED, "cannot read: " + e.getMessage());
            }
            if (!ModuleCompression.isPlain(buffer.bytes(), buffer.length())) {
                return preresolveCompressed(backend, t, dryRun, buffer.exact());
            }
            return preresolve(backend, t, dryRun, buffer, lock);
        } catch (IOException e) {
            return ModuleReport.notPatched(t.name(), ModuleStatus.FAILED, "cannot write " + t.destination() + ": " + e.getMessage());
        }
    }

    /**
     * Decides and writes one plain module, read into {@code buffer}; {@code lock} is held when
     * writing in place. The module is used where it lies in the buffer: in place, only a module
     * that must be restored first, or that is written by renaming, is copied.
     */
    private ModuleReport preresolve(Backend backend, Target t, boolean dryRun, ModuleBuffer buffer, ModuleLock lock)
            throws IOException {
        byte[] data = buffer.bytes();
        int length = buffer.length();
        byte[] plain = data;
        // What a killed in-place patch may have left: a whole tail nothing references yet.
        int plainLength = UndoRecord.staleTail(data, length).orElse(length);
        Outcome outcome = backend.preresolve(t.name(), plain, plainLength);
        if (outcome instanceof Outcome.AlreadyPreresolved) {
            // Or a patch cut off in its last step: preresolve the original image again.
            Optional<byte[]> original = InPlacePatch.unfinished(t.name(), data, plainLength);
            if (original.isPresent()) {
                plain = original.get();
                plainLength = plain.length;
                outcome = backend.preresolve(t.name(), plain);
            }
        }
        if (!dryRun && !(outcome instanceof Outcome.Preresolved done && !rename && signer.isEmpty() && lock != null
                && InPlacePatch.write(t.name(), lock.channel(), data, length, plain, plainLength, done.patch()))) {
            byte[] image = plain;
            int imageLength = plainLength;
            writeRenamed(t, outcome, () -> Arrays.copyOf(image, imageLength), ModuleCompression.NONE, buffer::exact);
        }
        return outcome.report();
    }

    /** Decides and writes one compressed module, whose file's bytes are {@code data}: always by renaming. */
    private ModuleReport preresolveCompressed(Backend backend, Target t, boolean dryRun, byte[] data) throws IOException {
        ModuleCompression compression;
        byte[] plain;
        try {
            compression = ModuleCompression.detect(t.name(), data);
            plain = compression.decompress(t.name(), data);
        } catch (InputFormatException e) {
            return ModuleReport.notPatched(t.name(), ModuleStatus.FAILED, e.reason());
        }
        Outcome outcome = backend.preresolve(t.name(), plain);
        if (!dryRun) {
            byte[] image = plain;
            writeRenamed(t, outcome, () -> image, compression, () -> data);
        }
        return outcome.report();
    }

    /**
     * Writes what {@code outcome} asks for through a temporary file renamed over the destination:
     * the patched module, or a module already preresolved copied to another destination.
     * {@code plain} (the module's ELF bytes) and {@code file} (the file's bytes) are asked for only
     * when written.
     */
    private void writeRenamed(Target t, Outcome outcome, Supplier<byte[]> plain, ModuleCompression compression,
                              Supplier<byte[]> file) throws IOException {
        if (outcome instanceof Outcome.Preresolved done) {
            writeModule(t, plain.get(), done.patch(), compression, signer);
        } else if (outcome instanceof Outcome.AlreadyPreresolved && !t.destination().equals(t.source())) {
            byte[] bytes = file.get();
            writeAtomically(t, bytes, new ElfPatch(bytes.length, List.of(), new byte[0]));
        }
    }

    /**
     * Writes a patched module in the file's own format, through a temporary file renamed over the
     * destination: signed when a signer is given, then compressed as the original was.
     *
     * @param t           the module and its destination
     * @param plain       the module's ELF bytes (decompressed)
     * @param patch       the rewrite of {@code plain}
     * @param compression how the file is compressed
     * @param signer      who signs the result, if anyone
     * @throws IOException if the destination cannot be written
     */
    public static void writeModule(Target t, byte[] plain, ElfPatch patch, ModuleCompression compression,
                                   Optional<ModuleSigner> signer) throws IOException {
        if (signer.isEmpty() && compression.format() == ModuleCompression.Format.NONE) {
            writeAtomically(t, plain, patch);
            return;
        }
        byte[] patched = patch.apply(plain);
        if (signer.isPresent()) {
            patched = signer.get().sign(patched);
        }
        writeAtomically(t, patched, new ElfPatch(0, List.of(), compression.compress(patched)));
    }

    /**
     * Writes the patched module to a temporary file beside its destination, with the source's
     * permissions, then renames it over the destination: readers see the old file or the new
     * one, never a mix. The temporary name is unique per process and thread.
     */
    static void writeAtomically(Target t, byte[] original, ElfPatch patch) throws IOException {
        Path dest = t.destination().toAbsolutePath();
        Path dir = dest.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + dest.getFileName() + ".lkmpre-" + ProcessHandle.current().pid() + "-"
                + Thread.currentThread().getId() + ".tmp"); // TEMPORARY matches this name
        boolean done = false;
        try {
            try (FileChannel out = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    permissionsOf(t.source()))) {
                patch.writeTo(original, out);
            }
            Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static FileAttribute<?>[] permissionsOf(Path source) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(source, PosixFileAttributeView.class);
        if (view == null) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(view.readAttributes().permissions())};
    }
}
