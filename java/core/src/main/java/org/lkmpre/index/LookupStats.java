package org.lkmpre.index;

/** Counters a lookup adds to: what the loader simulator and benchmarks report. Not thread-safe. */
public final class LookupStats {
    /** Lookups made. */
    public long lookups;
    /** Names compared byte by byte. */
    public long stringCompares;
    /** Misses the Bloom filter rejected before any chain walk. */
    public long bloomRejections;
    /** Hash chain entries visited. */
    public long chainSteps;

    /** Creates counters at zero. */
    public LookupStats() {
    }

    /** Adds counts in the C core's {@code lkmpre_lookup_stats} order. */
    public void add(long lookups, long stringCompares, long bloomRejections, long chainSteps) {
        this.lookups += lookups;
        this.stringCompares += stringCompares;
        this.bloomRejections += bloomRejections;
        this.chainSteps += chainSteps;
    }
}
