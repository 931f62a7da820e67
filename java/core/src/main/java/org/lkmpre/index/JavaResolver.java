package org.lkmpre.index;

/**
 * The pure-Java {@link Resolver}: the C core's {@code lkmpre_resolve} over its scope, line for
 * line. As the scope does, it copies every table's Bloom filter into one array and folds each
 * into one word, so that a GNU + Bloom walk over many tables rejects without touching them.
 */
final class JavaResolver implements Resolver {
    private final SymbolIndex[] indexes;
    private final byte[] names;
    /** Bits per Bloom word of every table (5 or 6), 0 if they differ. */
    private final int wordLog2;
    /** Each table's Bloom words ORed together: a name the table holds has its bits set here. */
    private final long[] fold;
    /** Where each table's filter starts in {@link #bloom}, and its word count - 1. */
    private final int[] filterAt;
    private final int[] filterMask;
    /** Every table's Bloom words, widened to 64 bits. */
    private final long[] bloom;

    JavaResolver(TableSet tables) {
        int n = tables.tables().size();
        indexes = new SymbolIndex[n];
        fold = new long[n];
        filterAt = new int[n];
        filterMask = new int[n];
        int words = 0;
        boolean mixed = false;
        for (int t = 0; t < n; t++) {
            indexes[t] = SymbolIndex.open("table " + t, tables.tables().get(t));
            words = Math.addExact(words, indexes[t].bloomWords());
            mixed |= t > 0 && indexes[t].wordLog2() != indexes[0].wordLog2();
        }
        bloom = new long[words];
        for (int t = 0, at = 0; t < n; t++) {
            SymbolIndex x = indexes[t];
            filterAt[t] = at;
            filterMask[t] = x.bloomWords() - 1;
            for (int i = 0; i < x.bloomWords(); i++) {
                bloom[at] = x.bloomWord(i << x.wordLog2());
                fold[t] |= bloom[at++];
            }
        }
        wordLog2 = n == 0 || mixed ? 0 : indexes[0].wordLog2();
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
        if (strategy == Strategy.GNU_BLOOM && wordLog2 != 0) {
            return bloomRun(first, count, off, len, h, stats);
        }
        for (int t = first; t < first + count; t++) {
            boolean maybe = strategy != Strategy.GNU_BLOOM || indexes[t].bloomMayContain(h);
            int e = indexes[t].probe(names, off, len, h, strategy, maybe, stats);
            if (e != 0) {
                return (long) t << 32 | e;
            }
        }
        return MISS;
    }

    /** GNU + Bloom as the C core's {@code bloom_run}: the query's two bits, the folded words, then the copy. */
    private long bloomRun(int first, int count, int off, int len, int h, LookupStats stats) {
        long bits = (1L << wordLog2) - 1;
        long m = (1L << (h & bits)) | (1L << ((h >>> KernelIndex.BLOOM_SHIFT2) & bits));
        int wi = h >>> wordLog2;
        int end = first + count;
        int t = first;
        int gnuProbes = 0;
        int e = 0;
        for (; t < end; t++) {
            if ((fold[t] & m) != m) {
                continue;
            }
            int mask = filterMask[t];
            if (mask != 0 && (bloom[filterAt[t] + (wi & mask)] & m) != m) {
                continue;
            }
            gnuProbes++;
            e = indexes[t].gnu(names, off, len, h, stats);
            if (e != 0) {
                break;
            }
        }
        if (stats != null) {
            int probed = t - first + (t < end ? 1 : 0);
            stats.lookups += probed;
            stats.bloomRejections += probed - gnuProbes;
        }
        return e == 0 ? MISS : (long) t << 32 | e;
    }

    @Override
    public void close() {
    }
}
