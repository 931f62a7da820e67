package org.lkmpre.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.lkmpre.internal.NativeLibrary.ERROR_SIZE;
import static org.lkmpre.internal.NativeLibrary.ERR_SPACE;
import static org.lkmpre.internal.NativeResult.FILE_DETAIL;
import static org.lkmpre.internal.NativeResult.FILE_DETAIL_LEN;
import static org.lkmpre.internal.NativeResult.FILE_RESULT_SIZE;
import static org.lkmpre.internal.NativeResult.MODULE_RESULT_SIZE;
import static org.lkmpre.internal.NativeResult.SYMBOL_RESULT_SIZE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.lkmpre.InputFormatException;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.internal.NativeFiles;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.internal.NativeResult;
import org.lkmpre.internal.ReportBuilder;
import org.lkmpre.internal.SparseOutput;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.ModuleReport;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.Preresolver;

/**
 * The C core through java.lang.foreign ({@link Core}'s handles): the index copied into an arena
 * that this backend owns, and one downcall per module that reads the module's Java array in place
 * and writes the sparse output ({@code SparseOutput}) into a per-thread
 * {@code malloc} buffer; {@link #close} frees both. Files that {@code ModuleTree} writes where
 * they lie go to the core's whole-file run instead ({@link #preresolveFiles}), one downcall a
 * batch. {@code size_t} is {@code JAVA_LONG}: the library is built for LP64 Linux.
 */
final class FfmBackend implements Backend, NativeFiles {
    private final Preresolver reference;
    private final ReportBuilder reports;
    /** Owns the index and the handle: freed by {@link #close}. */
    private final Arena arena = Arena.ofShared();
    private final MemorySegment handle;
    private final int flags;

    FfmBackend(Preresolver reference) {
        this.reference = reference;
        this.reports = new ReportBuilder(reference.kernel());
        MemorySegment handleMemory = arena.allocate(Core.indexHandleSize(), 8);
        MemorySegment ref = arena.allocate(ADDRESS);
        try {
            Core.openIndex(arena, index(reference.kernel()), handleMemory, ref, "index");
        } catch (InputFormatException e) {
            arena.close();
            throw new IllegalStateException("native core rejects the index Java wrote: " + e.reason(), e);
        }
        this.handle = ref.get(ADDRESS, 0);
        this.flags = NativeLibrary.flags(reference.options()) | NativeLibrary.OUT_SPARSE;
    }

    @Override
    public String name() {
        return "ffm";
    }

    @Override
    public KernelSymbols kernel() {
        return reference.kernel();
    }

    /**
     * Per-thread buffers, grown as needed and reused: the output in native memory from
     * {@code malloc} (the core writes a few fields of its image part and the tail: the other pages
     * are never touched, so a 20 MB module costs no 20 MB of memory), the rest in Java arrays.
     */
    private static final class Buffers {
        MemorySegment out = Libc.malloc(1 << 20);
        long[] results = new long[3 << 12];
        final long[] needs = new long[2];
        final long[] result = new long[MODULE_RESULT_SIZE / 8];
        final byte[] err = new byte[ERROR_SIZE];
    }

    /** Every thread's buffers, for {@link #close} to free. */
    private final Queue<Buffers> allBuffers = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<Buffers> buffers = ThreadLocal.withInitial(() -> {
        Buffers b = new Buffers();
        allBuffers.add(b);
        return b;
    });

    @Override
    public Outcome preresolve(String path, byte[] data) {
        return preresolve(path, data, data.length);
    }

    /** Reads the module where it is: no copy, whatever the buffer's length. */
    @Override
    public Outcome preresolve(String path, byte[] data, int length) {
        Buffers b = buffers.get();
        MemorySegment module = MemorySegment.ofArray(data);
        MemorySegment needs = MemorySegment.ofArray(b.needs);
        MemorySegment result = MemorySegment.ofArray(b.result);
        MemorySegment err = MemorySegment.ofArray(b.err);
        try {
            while (true) {
                long resultsCap = b.results.length * 8L / SYMBOL_RESULT_SIZE;
                MemorySegment results = MemorySegment.ofArray(b.results);
                MemorySegment out = b.out;
                int st = (int) Core.Modules.PRERESOLVE.invokeExact(handle, module, (long) length, flags, out,
                        out.byteSize(), needs, results, resultsCap, needs.asSlice(8), result, err);
                if (st == ERR_SPACE) {
                    if (b.needs[0] > out.byteSize()) {
                        Libc.free(out);
                        b.out = Libc.malloc(Math.max(b.needs[0], 2L * out.byteSize()));
                    }
                    if (b.needs[1] > resultsCap) {
                        b.results = new long[Math.toIntExact(Math.max(b.needs[1], 2 * resultsCap) * SYMBOL_RESULT_SIZE / 8)];
                    }
                    continue;
                }
                if (st != 0) {
                    throw new IllegalStateException(path + ": native core: " + Core.message(b.err));
                }
                ByteBuffer head = copy(result, MODULE_RESULT_SIZE);
                ByteBuffer symbols = copy(results, (long) NativeResult.symbolResults(head) * SYMBOL_RESULT_SIZE);
                return reports.fromNative(reference, path, data, length, NativeResult.decode(head, symbols,
                        (resolved, n) -> SparseOutput.patch(path, data, length, resolved, n,
                                (at, len) -> out.asSlice(at, len).toArray(JAVA_BYTE)),
                        () -> Core.message(b.err)));
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * One downcall for all the files: the core reads, decides and patches them on its own
     * threads; this decodes the results. Paths go to the core in the JVM's file name encoding.
     */
    @Override
    @SuppressWarnings("restricted") // each detail is sized by the core's detail_len
    public List<Optional<ModuleReport>> preresolveFiles(List<Path> files, List<String> names, boolean write, int threads) {
        int n = files.size();
        if (Core.Files.PRERESOLVE.isEmpty()) {
            return Collections.nCopies(n, Optional.empty()); // an older library: the per-module path does them
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment paths = call.allocate(ADDRESS, Math.max(1, n));
            for (int i = 0; i < n; i++) {
                paths.setAtIndex(ADDRESS, i, call.allocateFrom(files.get(i).toString(), NativeLibrary.FILE_NAMES));
            }
            MemorySegment results = call.allocate((long) Math.max(1, n) * FILE_RESULT_SIZE, 8);
            int fileFlags = NativeLibrary.flags(reference.options()) | (write ? NativeLibrary.FILES_WRITE : 0);
            int st = (int) Core.Files.PRERESOLVE.get().invokeExact(handle, paths, (long) n, fileFlags, Math.max(1, threads),
                    results);
            if (st != 0) {
                throw new IllegalStateException("native core: lkmpre_files_preresolve returned " + st);
            }
            try {
                List<Optional<ModuleReport>> out = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    MemorySegment r = results.asSlice((long) i * FILE_RESULT_SIZE, FILE_RESULT_SIZE);
                    byte[] detail = r.get(ADDRESS, FILE_DETAIL).reinterpret(r.get(JAVA_LONG, FILE_DETAIL_LEN)).toArray(JAVA_BYTE);
                    out.add(reports.fromFile(names.get(i), NativeResult.nativeOrder(r.toArray(JAVA_BYTE)), detail));
                }
                return out;
            } finally {
                Core.Files.RELEASE.orElseThrow().invokeExact(results, (long) n);
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** @return a copy of the first {@code size} bytes of a Java array the core wrote a struct into, for decoding */
    private static ByteBuffer copy(MemorySegment written, long size) {
        return NativeResult.nativeOrder(written.asSlice(0, size).toArray(JAVA_BYTE));
    }

    /** Frees the index copy and its handle; calls in flight on other threads make this throw. */
    @Override
    public void close() {
        arena.close();
        for (Buffers b; (b = allBuffers.poll()) != null; ) {
            Libc.free(b.out);
        }
    }

    /** @return the index the table was read from, else one written from it */
    private static byte[] index(KernelSymbols kernel) {
        return kernel.index().orElseGet(() -> KernelIndex.write(kernel));
    }
}
