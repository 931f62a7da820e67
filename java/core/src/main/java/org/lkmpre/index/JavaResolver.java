package org.lkmpre.index;

/**
 * The pure-Java {@link Resolver}: the C core's {@code lkmpre_resolve} over its scope, line for
 * line. As the scope does, it copies every table's Bloom filter into one array, folds each into
 * one word, and stores the folds bit-sliced (row b holds bit b of every table's fold, 64 tables a
 * long), so that a GNU + Bloom walk over many tables rejects 64 of them with one AND.
 */
final class JavaResolver implements Resolver {
    private final SymbolIndex[] indexes;
    private final byte[] names;
    /** Bits per Bloom word of every table (5 or 6), 0 if they differ. */
    private final int wordLog2;
    /** Longs per row of {@link #slice}. */
    private final int rowWords;
    /** 64 rows: bit {@code t % 64} of long {@code b * rowWords + t / 64} is bit b of table t's fold. */
    private final long[] slice;
    /** Where each table's filter starts in {@link #bloom}, and its word count - 1. */
    private final int[] filterAt;
    private final int[] filterMask;
    /** Every table's Bloom words, widened to 64 bits. */
    private final long[] bloom;

    JavaResolver(TableSet tables) {
        int n = tables.tables().size();
        indexes = new SymbolIndex[n];
        filterAt = new int[n];
        filterMask = new int[n];
        rowWords = (n + 63) / 64;
        slice = new long[64 * rowWords];
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
            long fold = 0;
            for (int i = 0; i < x.bloomWords(); i++) {
                bloom[at] = x.bloomWord(i << x.wordLog2());
                fold |= bloom[at++];
            }
            for (int b = 0; b < 64; b++) {
                slice[b * rowWords + t / 64] |= (fold >>> b & 1) << t;
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

    /**
     * GNU + Bloom as the C core's {@code bloom_run}: the rows of the query's two bits ANDed, 64
     * tables a long; a table a fold lets through is decided by its filter's copy, then its GNU
     * table.
     */
    private long bloomRun(int first, int count, int off, int len, int h, LookupStats stats) {
        int bits = (1 << wordLog2) - 1;
        int b1 = h & bits;
        int b2 = (h >>> KernelIndex.BLOOM_SHIFT2) & bits;
        long m = (1L << b1) | (1L << b2);
        int wi = h >>> wordLog2;
        int end = first + count;
        int hit = end;
        int gnuProbes = 0;
        int e = 0;
        for (int i = first >>> 6; first < end && i <= (end - 1) >>> 6 && e == 0; i++) {
            long c = slice[b1 * rowWords + i] & slice[b2 * rowWords + i];
            if (i == first >>> 6) {
                c &= -1L << (first & 63);
            }
            if (i == (end - 1) >>> 6) {
                c &= -1L >>> (63 - ((end - 1) & 63));
            }
            for (; c != 0; c &= c - 1) {
                int t = i << 6 | Long.numberOfTrailingZeros(c);
                int mask = filterMask[t];
                if (mask != 0 && (bloom[filterAt[t] + (wi & mask)] & m) != m) {
                    continue;
                }
                gnuProbes++;
                if ((e = indexes[t].gnu(names, off, len, h, stats)) != 0) {
                    hit = t;
                    break;
                }
            }
        }
        if (stats != null) {
            int probed = hit - first + (hit < end ? 1 : 0);
            stats.lookups += probed;
            stats.bloomRejections += probed - gnuProbes;
        }
        return e == 0 ? MISS : (long) hit << 32 | e;
    }

    @Override
    public void close() {
    }
}
