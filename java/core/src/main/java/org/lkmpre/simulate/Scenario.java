package org.lkmpre.simulate;

import org.lkmpre.index.Strategy;

/** One way the simulated loader resolves a module's undefined symbols. */
public enum Scenario {
    /** Scan every table entry: the 2.6.x loader. */
    LINEAR("linear", Strategy.LINEAR, false),
    /** Binary search over each sorted table: today's Linux. */
    BSEARCH("bsearch", Strategy.BSEARCH, false),
    /** SysV ELF hash per table. */
    SYSV("sysv", Strategy.SYSV, false),
    /** SysV hash with each name's hash computed at build time (the ST 2009 loader). */
    SYSV_PREHASHED("sysv-prehashed", Strategy.SYSV, true),
    /** GNU hash per table. */
    GNU("gnu", Strategy.GNU, false),
    /** GNU hash behind each table's Bloom filter (glibc, musl). */
    GNU_BLOOM("gnu-bloom", Strategy.GNU_BLOOM, false),
    /** GNU hash and Bloom filter with hashes computed at build time. */
    GNU_BLOOM_PREHASHED("gnu-bloom-prehashed", Strategy.GNU_BLOOM, true),
    /** Preresolved modules: what vmlinux provides is already absolute; the rest by GNU + Bloom. */
    PRERESOLVED("preresolved", Strategy.GNU_BLOOM, false),
    /** Preresolved, and each symbol from another module looked up only in its provider (depends=). */
    DIRECT("direct", Strategy.GNU_BLOOM, false);

    private final String label;
    private final Strategy strategy;
    private final boolean prehashed;

    Scenario(String label, Strategy strategy, boolean prehashed) {
        this.label = label;
        this.strategy = strategy;
        this.prehashed = prehashed;
    }

    /** @return the command-line name */
    public String label() {
        return label;
    }

    /** @return how each table is probed */
    public Strategy strategy() {
        return strategy;
    }

    /** @return true if names' hashes come precomputed */
    public boolean prehashed() {
        return prehashed;
    }

    /** @return the scenario with this command-line name */
    public static Scenario of(String label) {
        for (Scenario s : values()) {
            if (s.label.equals(label)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no strategy called " + label);
    }
}
