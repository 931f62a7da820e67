package org.lkmpre.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.ModuleStatus;
import org.lkmpre.preresolve.NativeLibrary;
import org.lkmpre.preresolve.NativeResult;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.Preresolver;

/**
 * The C core through java.lang.foreign: method handles looked up once, the index copied into
 * memory that lives as long as the backend, and one downcall per module with its buffers in a
 * confined arena. {@code size_t} is {@code JAVA_LONG}: the library is built for LP64 Linux.
 */
final class FfmBackend implements Backend {
    private static final int ERR_SPACE = -3;
    private static final int ERROR_SIZE = 200;
    private static final long SYMBOL_RESULT_SIZE = 24;
    private static final long MODULE_RESULT_SIZE = 40;

    private final Preresolver reference;
    /** Owns the index and the handle: freed when this backend is unreachable, not before. */
    private final Arena arena = Arena.ofAuto();
    private final MethodHandle preresolve;
    private final MemorySegment handle;
    private final int flags;

    @SuppressWarnings("restricted") // binding the C core is the point; the provider checks native access
    FfmBackend(Preresolver reference) {
        this.reference = reference;
        SymbolLookup lib = SymbolLookup.libraryLookup(NativeLibrary.path().orElseThrow(), Arena.global());
        Linker linker = Linker.nativeLinker();
        MethodHandle handleSize = linker.downcallHandle(lib.find("lkmpre_index_handle_size").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG));
        MethodHandle open = linker.downcallHandle(lib.find("lkmpre_index_open").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        this.preresolve = linker.downcallHandle(lib.find("lkmpre_preresolve").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS,
                        ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
        byte[] bytes = KernelIndex.write(reference.kernel());
        MemorySegment index = arena.allocate(bytes.length, 8);
        MemorySegment.copy(bytes, 0, index, JAVA_BYTE, 0, bytes.length);
        try {
            long size = (long) handleSize.invokeExact();
            MemorySegment handleMemory = arena.allocate(size, 8);
            MemorySegment ref = arena.allocate(ADDRESS);
            MemorySegment err = arena.allocate(ERROR_SIZE);
            int st = (int) open.invokeExact(index, (long) bytes.length, handleMemory, size, ref, err);
            if (st != 0) {
                throw new IllegalStateException("native core rejects the index: " + err.getString(0));
            }
            this.handle = ref.get(ADDRESS, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
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

    @Override
    public Outcome preresolve(String path, byte[] data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment module = arena.allocate(Math.max(1, data.length), 8);
            MemorySegment.copy(data, 0, module, JAVA_BYTE, 0, data.length);
            // Enough for every well-formed module (see the JNA binding); retried if not.
            long outCap = 2L * data.length + 128;
            long resultsCap = Math.max(1, data.length / 16);
            MemorySegment needs = arena.allocate(JAVA_LONG, 2);
            MemorySegment result = arena.allocate(MODULE_RESULT_SIZE, 8);
            MemorySegment err = arena.allocate(ERROR_SIZE);
            while (true) {
                MemorySegment out = arena.allocate(outCap, 8);
                MemorySegment results = arena.allocate(resultsCap * SYMBOL_RESULT_SIZE, 8);
                int st = (int) preresolve.invokeExact(handle, module, (long) data.length, flags, out, outCap,
                        needs, results, resultsCap, needs.asSlice(8), result, err);
                if (st == ERR_SPACE) {
                    outCap = Math.max(outCap, needs.get(JAVA_LONG, 0));
                    resultsCap = Math.max(resultsCap, needs.get(JAVA_LONG, 8));
                    continue;
                }
                if (st != 0) {
                    throw new IllegalStateException(path + ": native core: " + err.getString(0));
                }
                return reference.adopt(path, data, decode(result, results, out, err));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static NativeResult decode(MemorySegment result, MemorySegment results, MemorySegment out, MemorySegment err) {
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
        byte[] bytes = status == ModuleStatus.PRERESOLVED ? out.asSlice(0, result.get(JAVA_LONG, 32)).toArray(JAVA_BYTE)
                : new byte[0];
        return new NativeResult(status, NativeResult.Refusal.values()[result.get(JAVA_INT, 4)], result.get(JAVA_INT, 16),
                result.get(JAVA_INT, 20), result.get(JAVA_INT, 12), result.get(JAVA_INT, 24), result.get(JAVA_INT, 28),
                left, bytes, status == ModuleStatus.FAILED ? err.getString(0) : "");
    }
}
