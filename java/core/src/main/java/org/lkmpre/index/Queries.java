package org.lkmpre.index;

import java.util.Arrays;

/**
 * Symbols to resolve through a {@link TableSet}, packed as the C core's {@code lkmpre_query}
 * array (seven 32-bit fields each), so that a native binding passes the array as it is.
 * Fields of query {@code i} start at {@code i * FIELDS}: name offset and length in the table
 * set's names, GNU hash, SysV hash, prefix (tables {@code 0 .. prefix} searched first), first
 * and count (the run searched next).
 */
public final class Queries {
    /** 32-bit fields per query. */
    public static final int FIELDS = 7;
    private int[] packed = new int[FIELDS * 64];
    private int size;

    /** Creates an empty query list. */
    public Queries() {
    }

    /**
     * Appends one query.
     *
     * @param name       the name's bytes, from which its hashes are computed
     * @param nameOffset where the table set's names hold the same bytes
     * @param prefix     tables {@code 0 .. prefix} are searched first
     * @param first      then tables {@code first .. first + count}
     * @param count      see first
     */
    public void add(byte[] name, int nameOffset, int prefix, int first, int count) {
        if (FIELDS * (size + 1) > packed.length) {
            packed = Arrays.copyOf(packed, packed.length * 2);
        }
        int at = FIELDS * size++;
        packed[at] = nameOffset;
        packed[at + 1] = name.length;
        packed[at + 2] = KernelIndex.gnuHash(name);
        packed[at + 3] = KernelIndex.sysvHash(name);
        packed[at + 4] = prefix;
        packed[at + 5] = first;
        packed[at + 6] = count;
    }

    /** @return how many queries */
    public int size() {
        return size;
    }

    /**
     * Checks a batch's bounds before a resolver writes {@code out}.
     *
     * @throws IndexOutOfBoundsException if {@code from .. to} is not a range of queries or
     *                                   {@code out} has less than two ints per query
     */
    public void checkBatch(int from, int to, int[] out) {
        java.util.Objects.checkFromToIndex(from, to, size);
        if (out.length < 2L * (to - from)) {
            throw new IndexOutOfBoundsException("out holds " + out.length + " ints, the batch needs " + 2L * (to - from));
        }
    }

    /** @return the packed fields; index {@code i * FIELDS + k} is field k of query i; do not modify */
    public int[] packed() {
        return packed;
    }
}
