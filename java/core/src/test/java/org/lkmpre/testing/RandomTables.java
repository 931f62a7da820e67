package org.lkmpre.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.index.LookupStats;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.SymbolIndex;
import org.lkmpre.kernel.ExportKind;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelIdentity;
import org.lkmpre.kernel.KernelSymbols;

/**
 * Export indexes of random sizes (one-word and many-word Bloom filters) over a pool of random
 * names, for tests of walks over many tables; and the plain walk they are checked against.
 */
public final class RandomTables {
    /** Names at the end of the pool that no table holds. */
    public static final int MISSING = 100;
    private final List<byte[]> tables = new ArrayList<>();
    private final List<byte[]> names = new ArrayList<>();
    private final List<SymbolIndex> indexes = new ArrayList<>();

    /**
     * @param seed     the random seed
     * @param count    how many tables
     * @param pool     how many names the tables draw from ({@link #MISSING} more are in none)
     * @param wordSize 8 or 4 for every table's Bloom words, 0 for 8 and 4 in turn
     */
    public RandomTables(long seed, int count, int pool, int wordSize) {
        Random random = new Random(seed);
        for (int i = 0; i < pool + MISSING; i++) {
            names.add(("sym_" + Integer.toString(random.nextInt(), 36) + "_" + i).getBytes(StandardCharsets.ISO_8859_1));
        }
        for (int t = 0; t < count; t++) {
            List<ExportedSymbol> exports = new ArrayList<>();
            int size = random.nextInt(4) == 0 ? 1 + random.nextInt(200) : 1 + random.nextInt(6);
            for (int k = 0; k < size; k++) {
                String name = new String(names.get(random.nextInt(pool)), StandardCharsets.ISO_8859_1);
                exports.add(new ExportedSymbol(name, 0, OptionalLong.empty(), ExportKind.EXPORT_SYMBOL, ""));
            }
            int word = wordSize != 0 ? wordSize : t % 2 == 0 ? 8 : 4;
            byte[] index = KernelIndex.write(KernelSymbols.of("table " + t, exports, Map.of(), KernelIdentity.UNKNOWN,
                    Optional.empty(), word, 0));
            tables.add(index);
            indexes.add(SymbolIndex.open("table " + t, index));
        }
    }

    /** @return the tables' index bytes, in order */
    public List<byte[]> tables() {
        return tables;
    }

    /** @return the pool of names; the last {@link #MISSING} are in no table */
    public List<byte[]> names() {
        return names;
    }

    /**
     * The plain GNU + Bloom walk: tables {@code 0 .. prefix}, then {@code first .. first + count},
     * each probed in turn through its own Bloom filter.
     *
     * @return the table and the entry, or {@link Resolver#NOT_FOUND} and 0
     */
    public int[] search(byte[] name, int prefix, int first, int count, LookupStats stats) {
        int h = KernelIndex.gnuHash(name);
        for (int k = 0; k < prefix + count; k++) {
            int t = k < prefix ? k : first + k - prefix;
            int e = indexes.get(t).lookupHashed(name, h, true, stats);
            if (e != 0) {
                return new int[] {t, e};
            }
        }
        return new int[] {Resolver.NOT_FOUND, 0};
    }
}
