package org.lkmpre.index;

/**
 * Resolves batches of {@link Queries} through a {@link TableSet}, as the kernel's find_symbol
 * does: the query's prefix tables first, then its run, first hit wins. The Java reference is
 * {@link #java}; native bindings run the C core's {@code lkmpre_resolve}. All give the same
 * answers and the same counts. One instance is used by one thread at a time.
 */
public interface Resolver extends AutoCloseable {
    /** Table value for a name no table holds. */
    int NOT_FOUND = -1;

    /** @return "java", "ffm" or "jna" */
    String name();

    /**
     * Resolves queries {@code from .. to}.
     *
     * @param queries   the queries
     * @param from      first query
     * @param to        one past the last query
     * @param strategy  how each table is probed
     * @param prehashed take each name's hash from the query instead of computing it
     * @param out       gets, for query i, the table at {@code 2 * (i - from)} ({@link #NOT_FOUND}
     *                  if none) and the entry at {@code 2 * (i - from) + 1}
     * @param stats     counters to add to ({@code lookups} counts table probes), or null
     */
    void resolve(Queries queries, int from, int to, Strategy strategy, boolean prehashed, int[] out, LookupStats stats);

    /** Frees native memory, if any. */
    @Override
    void close();

    /**
     * @param tables the tables and names
     * @return the pure-Java resolver
     * @throws org.lkmpre.InputFormatException if a table is not a valid index
     */
    static Resolver java(TableSet tables) {
        SymbolIndex[] indexes = new SymbolIndex[tables.tables().size()];
        for (int i = 0; i < indexes.length; i++) {
            indexes[i] = SymbolIndex.open("table " + i, tables.tables().get(i));
        }
        byte[] names = tables.names();
        // As the C core's scope: one-word Bloom filters kept inline, so a walk reads one array.
        long[] word = new long[indexes.length];
        boolean[] single = new boolean[indexes.length];
        int[] log2 = new int[indexes.length];
        for (int t = 0; t < indexes.length; t++) {
            single[t] = indexes[t].bloomWords() == 1;
            word[t] = single[t] ? indexes[t].bloomWord(0) : 0;
            log2[t] = indexes[t].wordLog2();
        }
        return new Resolver() {
            @Override
            public String name() {
                return "java";
            }

            @Override
            public void resolve(Queries queries, int from, int to, Strategy strategy, boolean prehashed, int[] out,
                                LookupStats stats) {
                queries.checkBatch(from, to, out);
                int[] q = queries.packed();
                for (int i = from; i < to; i++) {
                    int at = Queries.FIELDS * i;
                    int off = q[at];
                    int len = q[at + 1];
                    if (off < 0 || len < 0 || off > names.length - len || q[at + 4] < 0 || q[at + 4] > indexes.length
                            || q[at + 5] < 0 || q[at + 6] < 0 || q[at + 6] > indexes.length - q[at + 5]) {
                        throw new IllegalArgumentException("query " + i + " names bytes or tables outside the arrays");
                    }
                    int h = !prehashed ? SymbolIndex.hashFor(strategy, names, off, len)
                            : strategy == Strategy.SYSV ? q[at + 3] : q[at + 2];
                    int table = NOT_FOUND;
                    int e = 0;
                    for (int t = 0; t < q[at + 4] && e == 0; t++) {
                        e = probe(t, off, len, h, strategy, stats);
                        table = t;
                    }
                    for (int t = q[at + 5]; t < q[at + 5] + q[at + 6] && e == 0; t++) {
                        e = probe(t, off, len, h, strategy, stats);
                        table = t;
                    }
                    out[2 * (i - from)] = e == 0 ? NOT_FOUND : table;
                    out[2 * (i - from) + 1] = e;
                }
            }

            private int probe(int t, int off, int len, int h, Strategy strategy, LookupStats stats) {
                if (strategy != Strategy.GNU_BLOOM || !single[t]) {
                    return indexes[t].probe(names, off, len, h, strategy, stats);
                }
                if (!SymbolIndex.bloomWordMayContain(word[t], log2[t], h)) {
                    if (stats != null) {
                        stats.lookups++;
                        stats.bloomRejections++;
                    }
                    return 0;
                }
                return indexes[t].gnuAfterBloom(names, off, len, h, stats);
            }

            @Override
            public void close() {
            }
        };
    }
}
