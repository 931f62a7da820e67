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
import java.nio.charset.StandardCharsets;
import org.lkmpre.InputFormatException;
import org.lkmpre.index.LookupStats;
import org.lkmpre.index.Queries;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.Strategy;
import org.lkmpre.index.TableSet;
import org.lkmpre.preresolve.NativeLibrary;

/**
 * {@code lkmpre_resolve} through java.lang.foreign: tables, their scope and the names built once in an arena;
 * each batch one critical downcall with the query, result and counter arrays passed in place.
 */
final class FfmResolver implements Resolver {
    private final Arena arena = Arena.ofShared();
    private final MethodHandle resolve;
    private final MemorySegment scope;
    private final MemorySegment names;
    private final long[] counts = new long[4];
    private final byte[] err = new byte[NativeLibrary.ERROR_SIZE];

    @SuppressWarnings("restricted") // binding the C core is the point; the provider checks native access
    FfmResolver(TableSet set) {
        try {
            SymbolLookup lib = SymbolLookup.libraryLookup(NativeLibrary.path().orElseThrow(), arena);
            Linker linker = Linker.nativeLinker();
            MethodHandle handleSize = linker.downcallHandle(lib.find("lkmpre_index_handle_size").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG));
            MethodHandle open = linker.downcallHandle(lib.find("lkmpre_index_open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
            MethodHandle scopeSize = linker.downcallHandle(lib.find("lkmpre_scope_size").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT));
            MethodHandle scopeInit = linker.downcallHandle(lib.find("lkmpre_scope_init").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
            this.resolve = linker.downcallHandle(lib.find("lkmpre_resolve").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT,
                            JAVA_INT, ADDRESS, ADDRESS, ADDRESS), Linker.Option.critical(true));
            long size = ((long) handleSize.invokeExact() + 7) & ~7L;
            int ntables = set.tables().size();
            MemorySegment handles = arena.allocate(size * Math.max(1, ntables), 8);
            MemorySegment tables = arena.allocate(ADDRESS, Math.max(1, ntables));
            MemorySegment error = arena.allocate(NativeLibrary.ERROR_SIZE);
            for (int i = 0; i < ntables; i++) {
                byte[] bytes = set.tables().get(i);
                MemorySegment index = arena.allocate(bytes.length, 8);
                MemorySegment.copy(bytes, 0, index, JAVA_BYTE, 0, bytes.length);
                MemorySegment handle = handles.asSlice(i * size, size);
                MemorySegment ref = tables.asSlice(i * ADDRESS.byteSize());
                int st = (int) open.invokeExact(index, (long) bytes.length, handle, size, ref, error);
                if (st != 0) {
                    throw new InputFormatException("table " + i, error.getString(0));
                }
            }
            long scopeBytes = (long) scopeSize.invokeExact(tables, ntables);
            MemorySegment scopeMemory = arena.allocate(scopeBytes, 8);
            MemorySegment ref = arena.allocate(ADDRESS);
            if ((int) scopeInit.invokeExact(tables, ntables, scopeMemory, scopeBytes, ref, error) != 0) {
                throw new InputFormatException("tables", error.getString(0));
            }
            this.scope = ref.get(ADDRESS, 0);
            byte[] n = set.names();
            this.names = arena.allocate(Math.max(1, n.length));
            MemorySegment.copy(n, 0, names, JAVA_BYTE, 0, n.length);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new IllegalStateException(t);
        }
    }

    @Override
    public String name() {
        return "ffm";
    }

    @Override
    public void resolve(Queries queries, int from, int to, Strategy strategy, boolean prehashed, int[] out, LookupStats stats) {
        queries.checkBatch(from, to, out);
        java.util.Arrays.fill(counts, 0);
        MemorySegment q = MemorySegment.ofArray(queries.packed()).asSlice(4L * Queries.FIELDS * from);
        try {
            int st = (int) resolve.invokeExact(scope, names, names.byteSize(), q, (long) (to - from),
                    strategy.ordinal(), prehashed ? 1 : 0, MemorySegment.ofArray(out), MemorySegment.ofArray(counts),
                    MemorySegment.ofArray(err));
            if (st != 0) {
                int n = 0;
                while (n < err.length && err[n] != 0) {
                    n++;
                }
                throw new IllegalArgumentException("native core: " + new String(err, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (stats != null) {
            stats.add(counts[0], counts[1], counts[2], counts[3]);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
