package org.lkmpre.ffm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lkmpre.index.LookupStats;
import org.lkmpre.index.Queries;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.Strategy;
import org.lkmpre.index.TableSet;
import org.lkmpre.testing.RandomTables;

/**
 * The GNU + Bloom walk over a scope of many tables (its folds bit-sliced, 64 tables a word), in
 * Java and in C, against the plain loop it replaces ({@link RandomTables#search}), for runs of
 * tables that start and end anywhere, across the words' edges.
 */
class ScopeConformanceTest {
    private static final int TABLES = 200;

    /** Word size 8 and 4 give 64- and 32-bit Bloom words; 0 mixes them (the walk without the slices). */
    @ParameterizedTest
    @ValueSource(ints = {8, 4, 0})
    void walkAnswersAndCountsAsOneProbePerTable(int wordSize) throws Exception {
        RandomTables tables = new RandomTables(20261203L + wordSize, TABLES, 3000, wordSize);
        Random random = new Random(wordSize);
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        Queries queries = new Queries();
        int[] want = new int[2 * 4000];
        LookupStats wantStats = new LookupStats();
        for (int i = 0; i < want.length / 2; i++) {
            byte[] name = tables.names().get(random.nextInt(tables.names().size()));
            int prefix = random.nextInt(3);
            int first = random.nextInt(TABLES + 1);
            int count = random.nextInt(TABLES - first + 1);
            queries.add(name, names.size(), prefix, first, count);
            names.write(name);
            System.arraycopy(tables.search(name, prefix, first, count, wantStats), 0, want, 2 * i, 2);
        }
        TableSet set = new TableSet(tables.tables(), names.toByteArray());
        for (boolean prehashed : new boolean[] {false, true}) {
            try (Resolver java = Resolver.java(set); Resolver c = new FfmResolver(set)) {
                for (Resolver r : List.of(java, c)) {
                    int[] got = new int[want.length];
                    LookupStats stats = new LookupStats();
                    r.resolve(queries, 0, queries.size(), Strategy.GNU_BLOOM, prehashed, got, stats);
                    String what = r.name() + (prehashed ? " prehashed" : "");
                    assertArrayEquals(want, got, what);
                    assertArrayEquals(counts(wantStats), counts(stats), what);
                }
            }
        }
    }

    private static long[] counts(LookupStats s) {
        return new long[] {s.lookups, s.stringCompares, s.bloomRejections, s.chainSteps};
    }
}
