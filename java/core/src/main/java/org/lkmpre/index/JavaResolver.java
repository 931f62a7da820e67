package org.lkmpre.index;

/**
 * The pure-Java {@link Resolver}: the C core's {@code lkmpre_resolve} over its scope, line for
 * line. As the scope does, it keeps each one-word Bloom filter in an array, so that a walk over
 * many small tables reads one array and rejects without touching the tables.
 */
final class JavaResolver implements Resolver {
    private final SymbolIndex[] indexes;
    private final byte[] names;
    private final long[] word;
    private final boolean[] single;
    private final int[] log2;

    JavaResolver(TableSet tables) {
        indexes = new SymbolIndex[tables.tables().size()];
        word = new long[indexes.length];
        single = new boolean[indexes.length];
        log2 = new int[indexes.length];
        for (int t = 0; t < indexes.length; t++) {
            indexes[t] = SymbolIndex.open("table " + t, tables.tables().get(t));
            single[t] = indexes[t].bloomWords() == 1;
            word[t] = single[t] ? indexes[t].bloomWord(0) : 0;
            log2[t] = indexes[t].wordLog2();
        }
        names = tables.names();
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public void resolve(Queries queries, int from, int to, Strategy strategy, boolean prehashed, int[] out, LookupStats stats) {
        queries.checkBatch(from, to, out);
        int[] q = queries.packed();
        for (int i = from; i < to; i++) {
            int at = Queries.FIELDS * i;
            int off = q[at];
            int len = q[at + 1];
            int prefix = q[at + 4];
            int first = q[at + 5];
            int count = q[at + 6];
            if (off < 0 || len < 0 || off > names.length - len || prefix < 0 || prefix > indexes.length || first < 0
                    || count < 0 || count > indexes.length - first) {
                throw new IllegalArgumentException("query " + i + " names bytes or tables outside the arrays");
            }
            int h = !prehashed ? SymbolIndex.hashFor(strategy, names, off, len)
                    : strategy == Strategy.SYSV ? q[at + 3] : q[at + 2];
            long hit = run(0, prefix, off, len, h, strategy, stats);
            if (hit == MISS) {
                hit = run(first, count, off, len, h, strategy, stats);
            }
            out[2 * (i - from)] = hit == MISS ? NOT_FOUND : (int) (hit >>> 32);
            out[2 * (i - from) + 1] = (int) hit;
        }
    }

    /** What {@link #run} returns when no table holds the name. */
    private static final long MISS = 0;

    /**
     * Searches tables {@code first .. first + count} in order.
     *
     * @return the table that holds the name in the high half, its entry (never 0) in the low
     *         half; or {@link #MISS}
     */
    private long run(int first, int count, int off, int len, int h, Strategy strategy, LookupStats stats) {
        for (int t = first; t < first + count; t++) {
            boolean maybe = strategy != Strategy.GNU_BLOOM
                    || (single[t] ? SymbolIndex.bloomWordMayContain(word[t], log2[t], h) : indexes[t].bloomMayContain(h));
            int e = indexes[t].probe(names, off, len, h, strategy, maybe, stats);
            if (e != 0) {
                return (long) t << 32 | e;
            }
        }
        return MISS;
    }

    @Override
    public void close() {
    }
}
