package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Section;
import org.lkmpre.kernel.KernelSource;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.testing.Fixtures;

/**
 * Never a wrong address, on every architecture Debian 12 builds a kernel for that lkmpre was
 * tried on: amd64, i386, armhf, arm64, ppc64el and s390x (a relocatable big-endian kernel whose
 * export tables the boot code completes). Each comes from ci/realdata-arch: the -dbg package's
 * vmlinux and System.map, the config and a few real modules. Every address lkmpre writes, as
 * readelf reads it back, must be the one the kernel's own System.map gives the symbol (the low 32
 * bits on 32-bit kernels, whose System.map may be sign-extended), and the C core must write the
 * Java reference's bytes. Runs when {@code -Dlkmpre.arches=DIR:DIR...} names such directories;
 * ci/test always provides them and sets {@code lkmpre.arches.required}.
 */
class RealArchitecturesTest {
    @TempDir
    Path tmp;

    static List<Path> arches() {
        String dirs = System.getProperty("lkmpre.arches", "");
        if (Boolean.getBoolean("lkmpre.arches.required")) {
            assertFalse(dirs.isEmpty(), "lkmpre.arches is required");
        }
        List<Path> out = dirs.isEmpty() ? List.of() : Arrays.stream(dirs.split(":")).map(Path::of).toList();
        out.forEach(d -> assertTrue(Files.isRegularFile(d.resolve("vmlinux")), d + " holds no vmlinux"));
        return out;
    }

    /** readelf -sW rows: [value, ndx, name] of GLOBAL and WEAK symbols. */
    private static List<String[]> globalSymbols(Path ko) throws Exception {
        return Fixtures.readelfSymtab(ko).stream().filter(f -> f[4].equals("GLOBAL") || f[4].equals("WEAK"))
                .map(f -> new String[] {f[1], f[6], f[7]}).toList();
    }

    private static boolean is64(Path vmlinux) throws Exception {
        try (InputStream in = Files.newInputStream(vmlinux)) {
            byte[] ident = in.readNBytes(5);
            return ident[4] == 2;
        }
    }

    @ParameterizedTest(allowZeroInvocations = true)
    @MethodSource("arches")
    void everyWrittenAddressIsTheKernelsOwnAndCWritesJavasBytes(Path arch) throws Exception {
        Path modules;
        try (Stream<Path> s = Files.list(arch.resolve("lib/modules"))) {
            modules = s.findFirst().orElseThrow().resolve("kernel");
        }
        Map<String, Set<Long>> systemMap = new HashMap<>();
        for (String line : Files.readAllLines(arch.resolve("System.map"))) {
            String[] f = line.split(" ");
            systemMap.computeIfAbsent(f[2], k -> new HashSet<>()).add(Long.parseUnsignedLong(f[0], 16));
        }
        long mask = is64(arch.resolve("vmlinux")) ? -1L : 0xffff_ffffL;

        Map<String, CliRun> runs = new HashMap<>();
        for (String backend : List.of("java", CliRun.nativeBackends().get(0))) {
            runs.put(backend, CliRun.of("preresolve", "--backend", backend, "--kernel", arch.resolve("vmlinux").toString(),
                    "--config", arch.resolve("config").toString(), "--assume-nokaslr", "--strip-signature",
                    "--json", tmp.resolve(backend + ".json").toString(), "--out", tmp.resolve(backend).toString(),
                    modules.toString()));
        }
        CliRun java = runs.get("java");
        CliRun c = runs.get(CliRun.nativeBackends().get(0));
        assertEquals(0, java.status(), java.out() + java.err());
        assertEquals(java.out(), c.out());
        assertEquals(Files.readString(tmp.resolve("java.json")), Files.readString(tmp.resolve(CliRun.nativeBackends().get(0) + ".json")));
        assertFalse(Files.readString(tmp.resolve("java.json")).contains("address-outside-vmlinux"), "the guard fails no export");

        int written = 0;
        int reported = 0;
        for (String line : java.lines()) {
            if (line.startsWith("PRERESV ")) {
                reported += Integer.parseInt(line.replaceAll(".*\\((\\d+)/\\d+ .*", "$1"));
            }
        }
        Map<String, String> javaDigests = CliRun.digests(tmp.resolve("java"));
        assertEquals(javaDigests, CliRun.digests(tmp.resolve(CliRun.nativeBackends().get(0))), "C and Java bytes");
        assertTrue(javaDigests.size() >= 6, javaDigests.toString());
        try (Stream<Path> s = Files.walk(tmp.resolve("java"))) {
            for (Path out : s.filter(p -> p.toString().endsWith(".ko")).toList()) {
                Path original = modules.resolve(tmp.resolve("java").relativize(out).toString());
                Set<String> undefined = new HashSet<>();
                globalSymbols(original).stream().filter(f -> f[1].equals("UND")).forEach(f -> undefined.add(f[2]));
                for (String[] f : globalSymbols(out)) {
                    if (f[1].equals("ABS") && undefined.contains(f[2])) {
                        long value = Long.parseUnsignedLong(f[0], 16);
                        Set<Long> want = systemMap.getOrDefault(f[2], Set.of());
                        assertTrue(want.stream().anyMatch(v -> (v & mask) == (value & mask)),
                                arch.getFileName() + " " + out.getFileName() + ": " + f[2] + " = " + f[0]
                                        + ", System.map says " + want.stream().map(Long::toHexString).toList());
                        written++;
                    }
                }
            }
        }
        assertEquals(reported, written, "every address lkmpre reports written is checked");
        assertTrue(written > 1000, written + " addresses");
    }

    /**
     * s390x without its boot relocations: the 363 exports whose place holds 0 fail the address
     * guard and the kernel is refused, by the Java reference and by the C core.
     */
    @Test
    void s390xWithoutItsBootRelocationsIsRefused() throws Exception {
        Path arch = arches().stream().filter(p -> p.getFileName().toString().startsWith("s390x-")).findFirst().orElse(null);
        assumeTrue(arch != null, "no s390x kernel");
        byte[] data = Files.readAllBytes(arch.resolve("vmlinux"));
        ElfFile elf = ElfFile.parse("s390x", data);
        Section rela = elf.section(".rela.dyn").orElseThrow();
        ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN).putLong((int) (elf.sectionHeaderOffset() + rela.index() * 64L + 8), 0);
        Path broken = tmp.resolve("vmlinux-unrelocated");
        Files.write(broken, data);
        CliRun r = CliRun.of("symbols", "--kernel", broken.toString());
        assertEquals(2, r.status(), r.out());
        assertTrue(r.err().contains("exports have addresses outside every allocated section (first: "), r.err());
        Process p = new ProcessBuilder(System.getProperty("lkmpre.native.driver"), "index", broken.toString(),
                tmp.resolve("x.lkmidx").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(2, p.waitFor(), out);
        assertTrue(out.contains("exports have addresses outside every allocated section (first: "), out);

        // The same kernel as shipped: its index from C is the Java index, byte for byte.
        Path fromC = tmp.resolve("c.lkmidx");
        Path fromJava = tmp.resolve("java.lkmidx");
        assertEquals(0, new ProcessBuilder(System.getProperty("lkmpre.native.driver"), "index",
                arch.resolve("vmlinux").toString(), fromC.toString()).inheritIO().start().waitFor());
        assertEquals(0, CliRun.of("index", "--kernel", arch.resolve("vmlinux").toString(), "-o", fromJava.toString()).status());
        assertArrayEquals(Files.readAllBytes(fromJava), Files.readAllBytes(fromC));
    }

    /**
     * The kernel as /boot has it: its index is the -dbg vmlinux's, byte for byte, and so is every
     * module preresolved against it, whether the image holds an ELF payload (amd64 and i386
     * bzImages, ppc64el's vmlinux) or a raw kernel whose export tables are found by their
     * structure (arm64 Image, arm zImage, and the s390 image, whose boot relocations are applied
     * first).
     */
    @ParameterizedTest(allowZeroInvocations = true)
    @MethodSource("arches")
    void bootImageGivesTheDebugVmlinuxResults(Path arch) throws Exception {
        Path fromImage = tmp.resolve("image.lkmidx");
        Path fromDebug = tmp.resolve("debug.lkmidx");
        CliRun image = CliRun.of("index", "--kernel", arch.resolve("vmlinuz").toString(), "-o", fromImage.toString());
        assertEquals(0, image.status(), image.err());
        assertEquals(0, CliRun.of("index", "--kernel", arch.resolve("vmlinux").toString(), "-o", fromDebug.toString()).status());
        assertArrayEquals(Files.readAllBytes(fromDebug), Files.readAllBytes(fromImage));
        assertEquals(new Vmlinux(arch.resolve("vmlinux")).read().exportSections(),
                KernelSource.detect(arch.resolve("vmlinuz")).read().exportSections(), "the export sections' sizes");

        Path modules;
        try (Stream<Path> s = Files.list(arch.resolve("lib/modules"))) {
            modules = s.findFirst().orElseThrow().resolve("kernel");
        }
        Map<String, CliRun> runs = new HashMap<>();
        for (String kernel : List.of("vmlinuz", "vmlinux")) {
            runs.put(kernel, CliRun.of("preresolve", "--kernel", arch.resolve(kernel).toString(), "--config",
                    arch.resolve("config").toString(), "--assume-nokaslr", "--strip-signature",
                    "--out", tmp.resolve(kernel).toString(), modules.toString()));
            assertEquals(0, runs.get(kernel).status(), runs.get(kernel).err());
        }
        assertEquals(runs.get("vmlinux").out(), runs.get("vmlinuz").out());
        Map<String, String> digests = CliRun.digests(tmp.resolve("vmlinux"));
        assertTrue(digests.size() >= 6, digests.toString());
        assertEquals(digests, CliRun.digests(tmp.resolve("vmlinuz")), "modules preresolved against the image and the vmlinux");
    }
}
