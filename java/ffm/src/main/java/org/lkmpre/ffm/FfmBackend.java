package org.lkmpre.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.lkmpre.preresolve.NativeLibrary.ERROR_SIZE;
import static org.lkmpre.preresolve.NativeLibrary.ERR_SPACE;
import static org.lkmpre.preresolve.NativeLibrary.MODULE_RESULT_SIZE;
import static org.lkmpre.preresolve.NativeLibrary.SYMBOL_RESULT_SIZE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.lkmpre.InputFormatException;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.ModuleStatus;
import org.lkmpre.preresolve.NativeLibrary;
import org.lkmpre.preresolve.NativeResult;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.Preresolver;

/**
 * The C core through java.lang.foreign ({@link Core}'s handles): the index copied into
 * memory that lives as long as the backend, and one downcall per module with per-thread Java
 * arrays passed in place. {@code size_t} is {@code JAVA_LONG}: the library is built for LP64 Linux.
 */
final class FfmBackend implements Backend {
    private final Preresolver reference;
    /** Owns the index and the handle: freed when this backend is unreachable, not before. */
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment handle;
    private final int flags;

    FfmBackend(Preresolver reference) {
        this.reference = reference;
        MemorySegment handleMemory = arena.allocate(Core.indexHandleSize(), 8);
        MemorySegment ref = arena.allocate(ADDRESS);
        try {
            Core.openIndex(arena, KernelIndex.write(reference.kernel()), handleMemory, ref, "index");
        } catch (InputFormatException e) {
            throw new IllegalStateException("native core rejects the index Java wrote: " + e.reason(), e);
        }
        this.handle = ref.get(ADDRESS, 0);
        this.flags = NativeLibrary.flags(reference.options());
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
        Buffers b = buffers.get();
        MemorySegment module = MemorySegment.ofArray(data);
        MemorySegment needs = MemorySegment.ofArray(b.needs);
        MemorySegment result = MemorySegment.ofArray(b.result);
        MemorySegment err = MemorySegment.ofArray(b.err);
        try {
            while (true) {
                long resultsCap = b.results.length * 8L / SYMBOL_RESULT_SIZE;
                MemorySegment results = MemorySegment.ofArray(b.results);
                int st = (int) Core.PRERESOLVE.invokeExact(handle, module, (long) data.length, flags, MemorySegment.ofArray(b.out),
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
                return reference.adopt(path, data, decode(result, results, b.out, b.err));
            }
        } catch (Throwable t) {
            throw Core.rethrow(t);
        }
    }

    private static NativeResult decode(MemorySegment result, MemorySegment results, byte[] out, byte[] errBytes) {
        ModuleStatus status = NativeResult.status(result.get(JAVA_INT, 0));
        int undefined = result.get(JAVA_INT, 8);
        List<NativeResult.Symbol> left = new ArrayList<>();
        if (status == ModuleStatus.PRERESOLVED) {
            for (int i = 0; i < undefined; i++) {
                long at = i * SYMBOL_RESULT_SIZE;
                int reason = results.get(JAVA_INT, at + 8);
                if (reason != 0) {
                    left.add(new NativeResult.Symbol(results.get(JAVA_INT, at + 4), NativeResult.reason(reason),
                            results.get(JAVA_LONG, at + 16)));
                }
            }
        }
        byte[] bytes = status == ModuleStatus.PRERESOLVED ? java.util.Arrays.copyOf(out, (int) result.get(JAVA_LONG, 32))
                : new byte[0];
        return new NativeResult(status, NativeResult.Refusal.values()[result.get(JAVA_INT, 4)], result.get(JAVA_INT, 16),
                result.get(JAVA_INT, 20), result.get(JAVA_INT, 12), result.get(JAVA_INT, 24), result.get(JAVA_INT, 28),
                left, bytes, status == ModuleStatus.FAILED ? Core.message(errBytes) : "");
    }
}
