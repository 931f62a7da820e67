package org.lkmpre.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.lkmpre.internal.NativeLibrary.ERROR_SIZE;
import static org.lkmpre.internal.NativeLibrary.ERR_SPACE;
import static org.lkmpre.internal.NativeResult.MODULE_RESULT_SIZE;
import static org.lkmpre.internal.NativeResult.SYMBOL_RESULT_SIZE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.lkmpre.InputFormatException;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.internal.NativeResult;
import org.lkmpre.internal.ReportBuilder;
import org.lkmpre.internal.SparseOutput;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.Preresolver;

/**
 * The C core through java.lang.foreign ({@link Core}'s handles): the index copied into
 * an arena that this backend owns and {@link #close} frees, and one downcall per module with
 * per-thread Java arrays passed in place. {@code size_t} is {@code JAVA_LONG}: the library is built for LP64 Linux.
 */
final class FfmBackend implements Backend {
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

    /** Per-thread output and result arrays, grown as needed and reused: no zeroing per module. */
    private static final class Buffers {
        byte[] out = new byte[1 << 20];
        long[] results = new long[3 << 12];
        final long[] needs = new long[2];
        final long[] result = new long[MODULE_RESULT_SIZE / 8];
        final byte[] err = new byte[ERROR_SIZE];
    }

    private final ThreadLocal<Buffers> buffers = ThreadLocal.withInitial(Buffers::new);

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
                int st = (int) Core.PRERESOLVE.invokeExact(handle, module, (long) length, flags, MemorySegment.ofArray(b.out),
                        (long) b.out.length, needs, results, resultsCap, needs.asSlice(8), result, err);
                if (st == ERR_SPACE) {
                    if (b.needs[0] > b.out.length) {
                        b.out = new byte[Math.toIntExact(Math.max(b.needs[0], 2L * b.out.length))];
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
                byte[] out = b.out;
                return reports.fromNative(reference, path, data, length, NativeResult.decode(head, symbols,
                        (resolved, n) -> SparseOutput.patch(path, data, length, resolved, n,
                                (at, len) -> Arrays.copyOfRange(out, (int) at, Math.addExact((int) at, len))),
                        () -> Core.message(b.err)));
            }
        } catch (Throwable t) {
            throw Core.rethrow(t);
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
    }

    /** @return the index the table was read from, else one written from it */
    private static byte[] index(KernelSymbols kernel) {
        return kernel.index().orElseGet(() -> KernelIndex.write(kernel));
    }
}
