package org.lkmpre.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.lkmpre.InputFormatException;
import org.lkmpre.index.LookupStats;
import org.lkmpre.index.Queries;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.Strategy;
import org.lkmpre.index.TableSet;
import org.lkmpre.internal.NativeLibrary;

/**
 * {@code lkmpre_resolve} through java.lang.foreign: tables, their scope and the names built once in an arena;
 * each batch one critical downcall with the query, result and counter arrays passed in place.
 */
final class FfmResolver implements Resolver {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scope;
    private final MemorySegment names;
    private final long[] counts = new long[4];
    private final byte[] err = new byte[NativeLibrary.ERROR_SIZE];

    FfmResolver(TableSet set) {
        try {
            long size = Core.indexHandleSize();
            int ntables = set.tables().size();
            MemorySegment handles = arena.allocate(size * Math.max(1, ntables), 8);
            MemorySegment tables = arena.allocate(ADDRESS, Math.max(1, ntables));
            for (int i = 0; i < ntables; i++) {
                Core.openIndex(arena, set.tables().get(i), handles.asSlice(i * size, size),
                        tables.asSlice(i * ADDRESS.byteSize()), "table " + i);
            }
            long scopeBytes = (long) Core.Simulator.SCOPE_SIZE.invokeExact(tables, ntables);
            MemorySegment scopeMemory = arena.allocate(scopeBytes, 8);
            MemorySegment ref = arena.allocate(ADDRESS);
            MemorySegment error = arena.allocate(NativeLibrary.ERROR_SIZE);
            if ((int) Core.Simulator.SCOPE_INIT.invokeExact(tables, ntables, scopeMemory, scopeBytes, ref, error) != 0) {
                throw new InputFormatException("tables", error.getString(0));
            }
            this.scope = ref.get(ADDRESS, 0);
            byte[] n = set.names();
            this.names = arena.allocate(Math.max(1, n.length));
            MemorySegment.copy(n, 0, names, JAVA_BYTE, 0, n.length);
        } catch (Throwable t) {
            arena.close();
            throw Libc.rethrow(t);
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
            int st = (int) Core.Simulator.RESOLVE.invokeExact(scope, names, names.byteSize(), q, (long) (to - from),
                    strategy.ordinal(), prehashed ? 1 : 0, MemorySegment.ofArray(out), MemorySegment.ofArray(counts),
                    MemorySegment.ofArray(err));
            if (st != 0) {
                throw new IllegalArgumentException("native core: " + Core.message(err));
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
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
