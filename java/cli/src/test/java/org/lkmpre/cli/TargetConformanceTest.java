package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.index.LookupStats;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.Strategy;
import org.lkmpre.index.SymbolIndex;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.testing.RandomTables;

/** The C core built for sh4 (both byte orders), arm and x86_64, run under qemu-user, against the Java reference. */
class TargetConformanceTest {
    @TempDir
    Path tmp;

    private static final List<String> TARGETS = List.of("arm", "sh4", "sh4eb", "x86_64");

    private static List<TargetDriver> drivers() throws Exception {
        List<TargetDriver> all = TargetConformance.built();
        assertEquals(TARGETS, all.stream().map(TargetDriver::name).toList(), "every target's driver is built");
        return all;
    }

    @Test
    void everyTargetConformsOnTheFixtures() throws Exception {
        Path fx = CliRun.fixtures();
        assertEquals(List.of("13 modules, targets arm (qemu-arm), sh4 (qemu-sh4), sh4eb (qemu-sh4eb), x86_64 (native):"
                + " all identical"), TargetConformance.run(fx.resolve("boot/vmlinux"), new PreresolveOptions(true, false),
                drivers(), List.of(fx.resolve("root"))));
        assertEquals(List.of("13 modules, targets sh4 (qemu-sh4): all identical"), TargetConformance.run(
                fx.resolve("boot/vmlinux"), PreresolveOptions.DEFAULTS, List.of(TargetConformance.built("sh4")),
                List.of(fx.resolve("root"))), "refusals conform too");
    }

    /** Each target builds the same index bytes and answers every lookup the same way. */
    @ParameterizedTest
    @ValueSource(strings = {"arm", "sh4", "sh4eb", "x86_64"})
    void indexAndLookupsOnEachTarget(String name) throws Exception {
        TargetDriver t = drivers().stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
        Path vmlinux = CliRun.fixtures().resolve("boot/vmlinux");
        Path out = tmp.resolve(name + ".lkmidx");
        t.run(List.of("index", vmlinux.toString(), out.toString()), tmp);
        KernelSymbols kernel = new Vmlinux(vmlinux).read();
        byte[] expected = KernelIndex.write(kernel);
        assertArrayEquals(expected, Files.readAllBytes(out));
        SymbolIndex index = SymbolIndex.open("fx", expected);
        List<String> args = new ArrayList<>(List.of("lookup", out.toString()));
        kernel.exports().stream().map(ExportedSymbol::name).forEach(args::add);
        args.addAll(List.of("missing", "fx_print", "fx_printkk"));
        for (String line : t.run(args, tmp).lines().toList()) {
            String[] f = line.split(" ");
            for (Strategy s : Strategy.values()) {
                assertEquals(Integer.parseInt(f[1 + s.ordinal()]),
                        index.lookup(f[0].getBytes(StandardCharsets.ISO_8859_1), s, null), line + " " + s);
            }
        }
    }

    /**
     * Each target reads every target's relocatable kernel (LE and BE, ELF64 and ELF32, RELA and
     * REL, RELATIVE and absolute relocations) as the Java reference does: the same index bytes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"arm", "sh4", "sh4eb", "x86_64"})
    void relocatableKernelsOnEachTarget(String name) throws Exception {
        TargetDriver t = drivers().stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
        for (String kernelTarget : List.of("x86_64", "arm", "sh4", "sh4eb")) {
            Path vmlinux = CliRun.fixtures().resolveSibling(kernelTarget).resolve("boot/vmlinux-relocatable");
            Path out = tmp.resolve(name + "-" + kernelTarget + ".lkmidx");
            t.run(List.of("index", vmlinux.toString(), out.toString()), tmp);
            assertArrayEquals(KernelIndex.write(new Vmlinux(vmlinux).read()), Files.readAllBytes(out), kernelTarget);
        }
    }

    /**
     * Each target walks a scope of more tables than one word of its bit-sliced folds holds
     * (random sizes, 64- and 32-bit Bloom words mixed or not) as the plain per-table walk does:
     * the same answers, hashing or given the hash, and the same counts.
     */
    @ParameterizedTest
    @ValueSource(strings = {"arm", "sh4", "sh4eb", "x86_64"})
    void scopeWalkOnEachTarget(String name) throws Exception {
        TargetDriver t = drivers().stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
        for (int wordSize : new int[] {8, 4, 0}) {
            int n = 150;
            RandomTables tables = new RandomTables(wordSize, n, 2000, wordSize);
            List<String> args = new ArrayList<>(List.of("resolve", Integer.toString(n)));
            for (int i = 0; i < n; i++) {
                Path p = tmp.resolve(wordSize + "-" + i + ".lkmidx");
                Files.write(p, tables.tables().get(i));
                args.add(p.toString());
            }
            List<byte[]> names = tables.names().subList(tables.names().size() - 400, tables.names().size());
            names.forEach(b -> args.add(new String(b, StandardCharsets.ISO_8859_1)));
            List<String> lines = t.run(args, tmp).lines().toList();
            assertEquals(names.size() + 1, lines.size(), name);
            LookupStats stats = new LookupStats();
            for (int k = 0; k < names.size(); k++) {
                int first = k * 37 % n;
                int[] want = tables.search(names.get(k), 0, first, n - first, stats);
                String w = want[0] == Resolver.NOT_FOUND ? "4294967295" : Integer.toString(want[0]);
                String expected = new String(names.get(k), StandardCharsets.ISO_8859_1) + " " + first + " " + w + " "
                        + want[1];
                assertEquals(expected + " " + w + " " + want[1], lines.get(k), name + " word size " + wordSize);
            }
            assertEquals("COUNTS " + 2 * stats.lookups + " " + 2 * stats.stringCompares + " " + 2 * stats.bloomRejections
                    + " " + 2 * stats.chainSteps, lines.get(names.size()), name + " word size " + wordSize);
        }
    }

    /** The sh4 compiler's loop miscompile would hang this program; every target's flags avoid it. */
    @ParameterizedTest
    @ValueSource(strings = {"arm", "sh4", "sh4eb", "x86_64"})
    void compilerFlagsAvoidTheSh4Miscompile(String name) throws Exception {
        TargetDriver t = drivers().stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
        List<String> cmd = new ArrayList<>();
        if (!t.emulator().isEmpty()) {
            cmd.add(t.emulator());
        }
        cmd.add(t.driver().resolveSibling("miscompile").toString());
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        boolean done = p.waitFor(20, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, name + ": the loop never ends: the compiler dropped its load");
        assertEquals(0, p.exitValue());
    }

    /** A target whose driver writes one wrong byte is caught, with the offset and section. */
    @Test
    void conformCatchesAWrongByte() throws Exception {
        Path toolchains = tmp.resolve("toolchains");
        Path build = tmp.resolve("build");
        Files.createDirectories(toolchains);
        Files.createDirectories(build.resolve("broken"));
        Files.writeString(toolchains.resolve("broken.mk"), "TARGET_EMULATOR =\n");
        Path real = Path.of(System.getProperty("lkmpre.native.build"), "x86_64", "lkmpre-target");
        Path script = build.resolve("broken/lkmpre-target");
        // Runs the real driver, then flips the last byte of every module it wrote.
        Files.writeString(script, "#!/bin/sh\n\"" + real + "\" \"$@\" || exit $?\n"
                + "[ \"$1\" = preresolve ] || exit 0\n"
                + "for f in \"$3\"/*.ko; do [ -f \"$f\" ] && printf '\\377' | dd of=\"$f\" bs=1 seek=$(($(stat -c %s \"$f\") - 1))"
                + " conv=notrunc status=none; done\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path fx = CliRun.fixtures();
        List<String> r = TargetConformance.run(fx.resolve("boot/vmlinux"), new PreresolveOptions(true, false),
                TargetDriver.available(toolchains, build), List.of(fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/fs")));
        String out = String.join("\n", r);
        assertEquals("2 modules, targets broken (native): 2 differences", r.get(r.size() - 1), out);
        // The flipped last byte lies in the new section header table: its last entry.
        assertTrue(r.stream().anyMatch(l -> l.startsWith("DIFFER  fx/fx_provider.ko: java vs broken: byte ")
                && l.endsWith(" (section header 20)")), out);
    }
}
