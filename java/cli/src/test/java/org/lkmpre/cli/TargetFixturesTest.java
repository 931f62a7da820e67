package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.testing.Fixtures;

/**
 * The fixtures built by each cross toolchain (fixtures/build.sh): arm (Thumb-2), sh4, and
 * big-endian sh4, with absolute-pointer __ksymtab entries as 32-bit kernels lay them out.
 */
class TargetFixturesTest {
    @TempDir
    Path tmp;

    private static Path dir(String target) {
        Path p = CliRun.fixtures().resolveSibling(target);
        assertTrue(Files.isDirectory(p), p + " was not built (cross compilers missing? ci/setup installs them)");
        return p;
    }

    /**
     * The symbol values vmlinux's own symbol table holds, by name (readelf prints st_value raw).
     * nm and System.map are not the oracle on arm: they print Thumb functions' addresses with
     * bit 0 cleared, while __ksymtab (and so the kernel's loader, which checks that bit for
     * R_ARM_THM_CALL) carries it set. Local symbols count too: the relocatable kernel hides its
     * GPL exports.
     */
    private static Map<String, String> symbolValues(Path vmlinux) throws Exception {
        Map<String, String> out = new HashMap<>();
        Fixtures.readelfSymtab(vmlinux).forEach(f -> out.put(f[7], f[1]));
        return out;
    }

    /**
     * lkmpre's table against the build's own: Module.symvers rows and vmlinux's symbol values;
     * for the relocatable kernel too, whose tables the boot code completes.
     */
    @ParameterizedTest
    @CsvSource({"arm, vmlinux", "sh4, vmlinux", "sh4eb, vmlinux", "x86_64, vmlinux-relocatable",
        "arm, vmlinux-relocatable", "sh4, vmlinux-relocatable", "sh4eb, vmlinux-relocatable"})
    void exportTableMatchesSymversAndNm(String target, String kernel) throws Exception {
        Path t = target.equals("x86_64") ? CliRun.fixtures() : dir(target);
        Map<String, String> nm = symbolValues(t.resolve("boot/" + kernel));
        Map<String, String> expected = new TreeMap<>();
        for (String line : Files.readAllLines(t.resolve("Module.symvers"))) {
            String[] f = line.split("\t", -1);
            if (f[2].equals("vmlinux")) {
                expected.put(f[1], nm.get(f[1]) + " " + f[0] + " " + f[3] + " " + (f[4].isEmpty() ? "-" : f[4]));
            }
        }
        CliRun r = CliRun.of("symbols", "--kernel", t.resolve("boot/" + kernel).toString());
        assertEquals(0, r.status(), r.err());
        Map<String, String> ours = new TreeMap<>();
        r.lines().stream().map(l -> l.split("\t")).forEach(f -> ours.put(f[0], f[1] + " " + f[2] + " " + f[3] + " " + f[4]));
        assertEquals(10, expected.size());
        assertEquals(expected, ours);
    }

    /** Same modules, same decisions, whatever the architecture, class and byte order. */
    @ParameterizedTest
    @ValueSource(strings = {"arm", "sh4", "sh4eb"})
    void sameReportAsOnX86(String target) {
        Path t = dir(target);
        Path x86 = CliRun.fixtures();
        CliRun ours = CliRun.of("preresolve", "--kernel", t.resolve("boot/vmlinux").toString(), "--dry-run",
                "--strip-signature", t.resolve("root/lib/modules").toString());
        CliRun reference = CliRun.of("preresolve", "--kernel", x86.resolve("boot/vmlinux").toString(), "--dry-run",
                "--strip-signature", x86.resolve("root/lib/modules").toString());
        assertEquals(1, ours.status(), "fx_other_kernel is refused: " + ours.out());
        assertEquals(reference.out(), ours.out());
    }

    @ParameterizedTest
    @CsvSource({"arm, vmlinux", "sh4, vmlinux", "sh4eb, vmlinux", "arm, vmlinux-relocatable", "sh4eb, vmlinux-relocatable"})
    void everyImplementationConforms(String target, String kernel) throws Exception {
        Path t = dir(target);
        CliRun r = CliRun.of("conform", "--kernel", t.resolve("boot/" + kernel).toString(), "--strip-signature",
                t.resolve("root").toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().endsWith("all identical" + CliRun.conformSkipped() + "\n"), r.out());
        List<String> targets = TargetConformance.run(t.resolve("boot/" + kernel), new PreresolveOptions(true, false),
                TargetConformance.built(), List.of(t.resolve("root")));
        assertEquals(1, targets.size(), String.join("\n", targets));
        assertTrue(targets.get(0).endsWith("all identical") && targets.get(0).contains("sh4 (qemu-sh4)"), targets.get(0));
    }

    /** The modules reach their imports through the target's real relocation types. */
    @ParameterizedTest
    @CsvSource({"arm, R_ARM_THM_CALL", "arm, R_ARM_THM_MOVW_ABS_NC", "sh4, R_SH_DIR32", "sh4eb, R_SH_DIR32",
        "x86_64, R_X86_64_PLT32", "x86_64, R_X86_64_PC32"})
    void relocationTypes(String target, String type) throws Exception {
        Path ko = (target.equals("x86_64") ? CliRun.fixtures() : dir(target))
                .resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_good.ko");
        assertTrue(CliRun.exec("readelf", "-rW", ko.toString()).contains(type), target + " " + type);
    }

    /** readelf on the patched big- and little-endian 32-bit modules shows vmlinux's symbol values. */
    @ParameterizedTest
    @ValueSource(strings = {"arm", "sh4", "sh4eb"})
    void readelfSeesAbsoluteAddresses(String target) throws Exception {
        Path t = dir(target);
        Path out = tmp.resolve(target);
        assertEquals(0, CliRun.of("preresolve", "--kernel", t.resolve("boot/vmlinux").toString(), "--out", out.toString(),
                t.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_good.ko").toString()).status());
        Map<String, String> nm = symbolValues(t.resolve("boot/vmlinux"));
        List<String[]> abs = Fixtures.readelfSymtab(out.resolve("fx_good.ko")).stream()
                .filter(f -> f[6].equals("ABS") && nm.containsKey(f[7])).toList();
        assertEquals(8, abs.size());
        abs.forEach(f -> assertEquals(nm.get(f[7]), f[1], f[7]));
    }
}
