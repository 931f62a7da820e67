package org.lkmpre.jna;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import org.lkmpre.InputFormatException;
import org.lkmpre.index.LookupStats;
import org.lkmpre.index.Queries;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.Strategy;
import org.lkmpre.index.TableSet;
import org.lkmpre.internal.NativeLibrary;

/**
 * {@code lkmpre_resolve} through JNA: tables and names copied once to native memory; each batch
 * copies its queries into a reused buffer and is one downcall.
 */
final class JnaResolver implements Resolver {
    /** Keeps the index bytes and handles alive as long as the table pointers. */
    private final List<Memory> keep = new ArrayList<>();
    private final Pointer scope;
    private final Memory names;
    private final Memory err = new Memory(NativeLibrary.ERROR_SIZE);
    private final long[] counts = new long[4];
    private Memory queryBuffer = new Memory(Queries.FIELDS * 4L * 256);
    private Memory outBuffer = new Memory(8L * 256);

    JnaResolver(TableSet set) {
        long size = Core.indexHandleSize();
        int ntables = set.tables().size();
        Memory handles = new Memory(size * Math.max(1, ntables));
        keep.add(handles);
        Memory tables = new Memory(Math.max(1, ntables) * (long) Native.POINTER_SIZE);
        keep.add(tables);
        for (int i = 0; i < ntables; i++) {
            keep.add(Core.openIndex(set.tables().get(i), handles.share(i * size, size),
                    tables.share((long) i * Native.POINTER_SIZE), "table " + i));
        }
        long scopeBytes = Core.LIBRARY.lkmpre_scope_size(tables, ntables).longValue();
        Memory scopeMemory = new Memory(scopeBytes);
        keep.add(scopeMemory);
        Memory ref = new Memory(Native.POINTER_SIZE);
        keep.add(ref);
        if (Core.LIBRARY.lkmpre_scope_init(tables, ntables, scopeMemory, new NativeLong(scopeBytes), ref, err) != 0) {
            throw new InputFormatException("tables", err.getString(0, "ISO-8859-1"));
        }
        this.scope = ref.getPointer(0);
        byte[] n = set.names();
        this.names = new Memory(Math.max(1, n.length));
        names.write(0, n, 0, n.length);
    }

    @Override
    public String name() {
        return "jna";
    }

    @Override
    public void resolve(Queries queries, int from, int to, Strategy strategy, boolean prehashed, int[] out, LookupStats stats) {
        queries.checkBatch(from, to, out);
        int n = to - from;
        if (queryBuffer.size() < Queries.FIELDS * 4L * n) {
            queryBuffer = new Memory(Queries.FIELDS * 4L * n);
            outBuffer = new Memory(8L * n);
        }
        if (n > 0) {
            queryBuffer.write(0, queries.packed(), Queries.FIELDS * from, Queries.FIELDS * n);
        }
        java.util.Arrays.fill(counts, 0);
        int st = Core.LIBRARY.lkmpre_resolve(scope, names, new NativeLong(names.size()), queryBuffer,
                new NativeLong(n), strategy.ordinal(), prehashed ? 1 : 0, outBuffer, counts, err);
        if (st != 0) {
            throw new IllegalArgumentException("native core: " + err.getString(0, "ISO-8859-1"));
        }
        if (n > 0) {
            outBuffer.read(0, out, 0, 2 * n);
        }
        if (stats != null) {
            stats.add(counts[0], counts[1], counts[2], counts[3]);
        }
    }

    @Override
    public void close() {
        for (Memory m : keep) {
            m.close();
        }
        names.close();
    }
}
