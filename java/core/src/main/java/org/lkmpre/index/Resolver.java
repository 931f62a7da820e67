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
        return new JavaResolver(tables);
    }
}
