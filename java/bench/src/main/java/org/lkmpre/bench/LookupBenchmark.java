package org.lkmpre.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.index.Strategy;
import org.lkmpre.index.SymbolIndex;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Resolves every undefined-symbol reference of a module tree against an export index, once per
 * invocation, with each lookup strategy: the Java side of docs/benchmarks.md.
 *
 * <p>{@code -Dlkmpre.bench.index=FILE} names an index ({@code lkmpre index}),
 * {@code -Dlkmpre.bench.names=FILE} the references, one name per line.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class LookupBenchmark {
    @Param({"BSEARCH", "SYSV", "GNU", "GNU_BLOOM", "GNU_BLOOM_PREHASHED"})
    public String strategy;

    private SymbolIndex index;
    private byte[][] names;
    private int[] hashes;

    @Setup(Level.Trial)
    public void load() throws IOException {
        byte[] data = Files.readAllBytes(Path.of(System.getProperty("lkmpre.bench.index")));
        index = SymbolIndex.open("bench index", data);
        List<String> lines = Files.readAllLines(Path.of(System.getProperty("lkmpre.bench.names")), StandardCharsets.ISO_8859_1);
        names = new byte[lines.size()][];
        hashes = new int[lines.size()];
        for (int i = 0; i < names.length; i++) {
            names[i] = lines.get(i).getBytes(StandardCharsets.ISO_8859_1);
            // Precomputed at build time in the ST loader's scheme: not part of the measured work.
            hashes[i] = KernelIndex.gnuHash(names[i]);
        }
    }

    /** @return how many references resolved (consumed by JMH so nothing is optimized away) */
    @Benchmark
    public int resolveTree() {
        int found = 0;
        if (strategy.equals("GNU_BLOOM_PREHASHED")) {
            for (int i = 0; i < names.length; i++) {
                found += index.lookupHashed(names[i], hashes[i], true, null) != 0 ? 1 : 0;
            }
            return found;
        }
        Strategy s = Strategy.valueOf(strategy);
        for (byte[] name : names) {
            found += index.lookup(name, s, null) != 0 ? 1 : 0;
        }
        return found;
    }
}
