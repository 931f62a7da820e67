package org.lkmpre.index;

/** How a symbol is looked up in the export index; the C core's {@code lkmpre_strategy}, same order. */
public enum Strategy {
    /** Scan every entry: the 2.6.x loader. */
    LINEAR,
    /** Binary search over names: today's Linux. */
    BSEARCH,
    /** SysV ELF hash. */
    SYSV,
    /** GNU hash, no Bloom filter. */
    GNU,
    /** GNU hash behind its Bloom filter (glibc, musl). */
    GNU_BLOOM
}
