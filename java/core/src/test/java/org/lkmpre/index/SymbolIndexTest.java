package org.lkmpre.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lkmpre.InputFormatException;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelConfig;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.testing.Fixtures;

class SymbolIndexTest {
    private static KernelSymbols kernel;
    private static byte[] bytes;
    private static SymbolIndex index;

    @BeforeAll
    static void build() throws Exception {
        kernel = new Vmlinux(Fixtures.vmlinux()).read();
        bytes = KernelIndex.write(kernel);
        index = SymbolIndex.open("fx.lkmidx", bytes);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void everyStrategyFindsEveryExportAndNoMiss() {
        assertEquals(kernel.exports().size(), index.count());
        for (ExportedSymbol e : kernel.exports()) {
            int entry = index.lookup(b(e.name()), Strategy.LINEAR, null);
            assertEquals(e.name(), index.name(entry));
            for (Strategy s : Strategy.values()) {
                assertEquals(entry, index.lookup(b(e.name()), s, null), e.name() + " " + s);
            }
            assertEquals(entry, index.lookupHashed(b(e.name()), KernelIndex.gnuHash(b(e.name())), true, null));
        }
        LookupStats stats = new LookupStats();
        for (int i = 0; i < 1000; i++) {
            for (Strategy s : Strategy.values()) {
                assertEquals(0, index.lookup(b("missing_" + i), s, stats));
            }
        }
        assertEquals(0, index.lookup(b("fx_printkk"), Strategy.BSEARCH, null));
        assertEquals(0, index.lookup(b("fx_print"), Strategy.GNU, null));
        assertTrue(stats.bloomRejections > 500, "Bloom rejected " + stats.bloomRejections);
        assertEquals(5000, stats.lookups);
    }

    /** One byte short, one more, with its NUL, with a NUL inside: misses in every strategy. */
    @Test
    void nearNamesMiss() {
        for (ExportedSymbol e : kernel.exports()) {
            String n = e.name();
            for (String near : List.of(n.substring(0, n.length() - 1), n + "x", n + "\0",
                    n.substring(0, n.length() / 2) + "\0" + n.substring(n.length() / 2 + 1))) {
                for (Strategy s : Strategy.values()) {
                    assertEquals(0, index.lookup(b(near), s, null), near + " " + s);
                }
            }
        }
    }

    @Test
    void readsBackTheSameTable() {
        KernelSymbols back = index.kernel();
        assertEquals(kernel.identity(), back.identity());
        assertEquals(new java.util.HashSet<>(kernel.exports()), new java.util.HashSet<>(back.exports()));
    }

    /**
     * A table read from an index makes its exports when first asked for (a run that hands the
     * index to the C core never asks), once, and shares them with its copies.
     */
    @Test
    void anIndexsExportsAreMadeOnceWhenFirstAskedFor() {
        AtomicInteger made = new AtomicInteger();
        List<ExportedSymbol> exports = kernel.exports();
        KernelSymbols read = KernelSymbols.ofIndex("t.lkmidx", bytes, () -> {
            made.incrementAndGet();
            return exports;
        }, kernel.identity(), Optional.empty(), kernel.wordSize(), kernel.machine());
        KernelSymbols copy = read.withConfig(new KernelConfig("t.config", Map.of()));
        assertArrayEquals(bytes, copy.index().orElseThrow());
        assertEquals(kernel.identity(), copy.identity());
        assertEquals(0, made.get(), "made before asked for");
        ExportedSymbol last = exports.get(exports.size() - 1);
        assertEquals(last, copy.find(last.name()).orElseThrow());
        assertEquals(exports, read.exports());
        assertEquals(kernel.hasCrcs(), read.hasCrcs());
        assertEquals(1, made.get(), "made more than once");
        assertEquals(new java.util.HashSet<>(exports), new java.util.HashSet<>(index.kernel().exports()));
    }

    /** The C core answers every lookup the same way (its host driver prints the entry per strategy). */
    @Test
    void sameEntriesAsTheCCore() throws Exception {
        Path idx = Path.of(System.getProperty("java.io.tmpdir"), "lkmpre-symbolindex-" + ProcessHandle.current().pid() + ".lkmidx");
        java.nio.file.Files.write(idx, bytes);
        try {
            List<String> cmd = new ArrayList<>(List.of(System.getProperty("lkmpre.native.driver"), "lookup", idx.toString()));
            kernel.exports().forEach(e -> cmd.add(e.name()));
            cmd.addAll(List.of("nope", "fx_print", "fx_printkk"));
            List<String> lines = Fixtures.run(cmd.toArray(String[]::new)).lines().toList();
            assertEquals(cmd.size() - 3, lines.size(), "one line per name");
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                String[] f = line.split(" ");
                assertEquals(cmd.get(3 + i), f[0], line);
                assertEquals(1 + Strategy.values().length, f.length, line);
                for (Strategy s : Strategy.values()) {
                    assertEquals(Integer.parseInt(f[1 + s.ordinal()]), index.lookup(b(f[0]), s, null), line + " " + s);
                }
            }
        } finally {
            java.nio.file.Files.deleteIfExists(idx);
        }
    }

    @Test
    void hostileIndexesFailCleanly() {
        for (int cut = 0; cut < bytes.length; cut += 3) {
            byte[] c = java.util.Arrays.copyOf(bytes, cut);
            assertThrows(InputFormatException.class, () -> SymbolIndex.open("cut", c), "cut " + cut);
        }
        Random r = new Random(5);
        for (int i = 0; i < 5000; i++) {
            byte[] m = bytes.clone();
            for (int f = 1 + r.nextInt(4); f > 0; f--) {
                m[r.nextInt(m.length)] = (byte) r.nextInt(256);
            }
            SymbolIndex x;
            try {
                x = SymbolIndex.open("mutant", m);
            } catch (InputFormatException e) {
                continue;
            }
            for (Strategy s : Strategy.values()) {
                x.lookup(b("fx_printk"), s, null);
                x.lookup(b("nope"), s, null);
            }
        }
    }
}
