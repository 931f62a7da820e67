package org.lkmpre.index;

import java.util.List;

/**
 * What a {@link Resolver} searches: export indexes in a fixed order (vmlinux's tables first,
 * then every module's), and one byte array holding the names that queries point into.
 *
 * @param tables index bytes (docs/index-format.md) of each table; not copied, must not change
 * @param names  the query names, back to back
 */
public record TableSet(List<byte[]> tables, byte[] names) {
    /** Copies the list (not the arrays). */
    public TableSet {
        tables = List.copyOf(tables);
    }
}
