package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreresolveCommandTest {
    private static final String KERNEL_DIR = "lib/modules/6.1.0-lkmpre-fixture/kernel";

    @TempDir
    Path tmp;
    Path tree;
    String vmlinux;

    @BeforeEach
    void copyFixtures() throws Exception {
        tree = tmp.resolve("root");
        CliRun.copyTree(CliRun.fixtures().resolve("root"), tree);
        vmlinux = CliRun.fixtures().resolve("boot/vmlinux").toString();
    }

    private static final List<String> EXPECTED_LINES = List.of(
            "SKIPPED drivers/fx/fx_already.ko (already preresolved)",
            "PRERESV drivers/fx/fx_crc_mismatch.ko (1/2 preresolved)",
            "PRERESV drivers/fx/fx_good.ko (8/8 *fully* preresolved)",
            "PRERESV drivers/fx/fx_missing_version.ko (1/2 preresolved)",
            "PRERESV drivers/fx/fx_no_import.ko (1/2 preresolved)",
            "PRERESV drivers/fx/fx_no_license.ko (0/1 preresolved)",
            "PRERESV drivers/fx/fx_no_versions.ko (0/1 preresolved)",
            "REFUSED drivers/fx/fx_other_kernel.ko (module is built for kernel 6.1.0-56-amd64, kernel is"
                    + " 6.1.0-lkmpre-fixture: its addresses would be wrong)",
            "PRERESV drivers/fx/fx_proprietary.ko (1/2 preresolved)",
            "REFUSED drivers/fx/fx_signed.ko (module signature appended; --strip-signature removes it, and the module then"
                    + " loads unsigned)",
            "PRERESV drivers/fx/fx_unresolvable.ko (1/2 preresolved)",
            "PRERESV fs/fx/fx_consumer.ko (1/2 preresolved)",
            "PRERESV fs/fx/fx_provider.ko (1/1 *fully* preresolved)",
            "lkmpre: 13 modules: 10 preresolved (2 fully), 1 already preresolved, 2 refused, 0 failed; 15/23 symbols preresolved");

    @Test
    void inPlaceThenIdempotent() throws Exception {
        Path dir = tree.resolve(KERNEL_DIR);
        Map<String, String> before = CliRun.digests(dir);
        CliRun r = CliRun.of("preresolve", "--kernel", vmlinux, "--in-place", dir.toString());
        assertEquals(EXPECTED_LINES, r.lines(), r.err());
        assertEquals(1, r.status(), "a refused module makes the exit status 1");
        Map<String, String> after = CliRun.digests(dir);
        assertEquals(before.keySet(), after.keySet(), "no temporary files left behind");
        assertEquals(before.get("drivers/fx/fx_signed.ko"), after.get("drivers/fx/fx_signed.ko"), "refused module untouched");
        assertEquals(before.get("drivers/fx/fx_already.ko"), after.get("drivers/fx/fx_already.ko"));
        assertNotEquals(before.get("drivers/fx/fx_good.ko"), after.get("drivers/fx/fx_good.ko"));

        CliRun again = CliRun.of("preresolve", "--kernel", vmlinux, "--strip-signature", dir.toString());
        assertEquals(1, again.status(), "fx_other_kernel stays refused: " + again.out());
        Map<String, String> third = CliRun.digests(dir);
        after.remove("drivers/fx/fx_signed.ko");
        third.remove("drivers/fx/fx_signed.ko");
        assertEquals(after, third, "a second run changes nothing it already did");
        assertTrue(again.lines().contains("PRERESV drivers/fx/fx_signed.ko (8/8 *fully* preresolved)"), again.out());
        assertTrue(again.lines().contains("SKIPPED drivers/fx/fx_good.ko (already preresolved)"), again.out());
    }

    @Test
    void outDirMirrorsTheTreeAndLeavesSourcesAlone() throws Exception {
        Path dir = tree.resolve(KERNEL_DIR);
        Map<String, String> before = CliRun.digests(dir);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of("preresolve", "--kernel", vmlinux, "--strip-signature", "--out", out.toString(), dir.toString());
        assertEquals(1, r.status(), r.out() + r.err());
        assertEquals(before, CliRun.digests(dir));
        Map<String, String> written = new java.util.TreeMap<>(before);
        written.remove("drivers/fx/fx_other_kernel.ko");
        assertEquals(written.keySet(), CliRun.digests(out).keySet(), "refused modules are not written");
        assertTrue(Files.isExecutable(out.resolve("drivers/fx/fx_good.ko")) == Files.isExecutable(dir.resolve("drivers/fx/fx_good.ko")));

        Path single = tmp.resolve("single");
        CliRun one = CliRun.of("preresolve", "--kernel", vmlinux, "--out", single.toString(),
                dir.resolve("fs/fx/fx_provider.ko").toString());
        assertEquals(0, one.status());
        assertTrue(one.lines().get(0).startsWith("PRERESV " + dir.resolve("fs/fx/fx_provider.ko") + " (1/1"), one.out());
        assertTrue(Files.exists(single.resolve("fx_provider.ko")));
    }

    @Test
    void dryRunWritesNothing() throws Exception {
        Map<String, String> before = CliRun.digests(tree);
        Path json = tmp.resolve("report.json");
        CliRun r = CliRun.of("preresolve", "--kernel", vmlinux, "--dry-run", "--json", json.toString(), tree.toString());
        assertEquals(1, r.status());
        assertEquals(before, CliRun.digests(tree));
        assertTrue(Files.exists(json));
    }

    @Test
    void jsonReportSaysWhyEachSymbolStayedUndefined() throws Exception {
        Path json = tmp.resolve("report.json");
        CliRun r = CliRun.of("preresolve", "--kernel", vmlinux, "--strip-signature", "--json", json.toString(),
                tree.resolve(KERNEL_DIR).toString());
        assertEquals(1, r.status());
        List<String> reasons = new ArrayList<>();
        String path = null;
        String buildId = null;
        try (JsonParser p = new JsonFactory().createParser(json.toFile())) {
            for (JsonToken t; (t = p.nextToken()) != null; ) {
                if (t == JsonToken.FIELD_NAME && p.currentName().equals("path")) {
                    path = p.nextTextValue();
                } else if (t == JsonToken.FIELD_NAME && p.currentName().equals("build_id")) {
                    buildId = p.nextTextValue();
                } else if (t == JsonToken.FIELD_NAME && p.currentName().equals("reason")) {
                    reasons.add(path + ":" + p.nextTextValue());
                }
            }
        }
        assertEquals(List.of("drivers/fx/fx_crc_mismatch.ko:crc-mismatch", "drivers/fx/fx_missing_version.ko:missing-version",
                "drivers/fx/fx_no_import.ko:namespace-not-imported", "drivers/fx/fx_no_license.ko:gpl-only",
                "drivers/fx/fx_no_versions.ko:no-modversions", "drivers/fx/fx_proprietary.ko:gpl-only",
                "drivers/fx/fx_unresolvable.ko:not-exported-by-vmlinux", "fs/fx/fx_consumer.ko:not-exported-by-vmlinux"),
                reasons);
        assertTrue(buildId != null && buildId.matches("[0-9a-f]{40}"), buildId);
    }

    @Test
    void malformedModuleFailsAloneAndIsNotTouched() throws Exception {
        Path dir = tree.resolve(KERNEL_DIR);
        Path bad = dir.resolve("drivers/fx/fx_truncated.ko");
        byte[] good = Files.readAllBytes(dir.resolve("drivers/fx/fx_good.ko"));
        Files.write(bad, java.util.Arrays.copyOf(good, good.length / 2));
        Files.writeString(dir.resolve("drivers/fx/not_elf.ko"), "hello\n");
        Map<String, String> before = CliRun.digests(dir);
        CliRun r = CliRun.of("preresolve", "--kernel", vmlinux, "--strip-signature", dir.toString());
        assertEquals(1, r.status());
        assertTrue(r.lines().stream().anyMatch(l -> l.startsWith("FAILED  drivers/fx/fx_truncated.ko (section ")), r.out());
        assertTrue(r.lines().contains("FAILED  drivers/fx/not_elf.ko (not an ELF file (bad magic))"), r.out());
        assertTrue(r.lines().contains("PRERESV drivers/fx/fx_good.ko (8/8 *fully* preresolved)"), "others still processed");
        Map<String, String> after = CliRun.digests(dir);
        assertEquals(before.get("drivers/fx/fx_truncated.ko"), after.get("drivers/fx/fx_truncated.ko"));
        assertEquals(before.keySet(), after.keySet());
    }

    @Test
    void unusableKernelOrUsageExitsTwo() throws Exception {
        String dir = tree.resolve(KERNEL_DIR).toString();
        CliRun missing = CliRun.of("preresolve", "--kernel", tmp.resolve("nope").toString(), dir);
        assertEquals(2, missing.status());
        assertEquals(List.of("lkmpre: error: " + tmp.resolve("nope") + ": no such file"), missing.err().lines().toList());

        CliRun module = CliRun.of("preresolve", "--kernel", tree.resolve(KERNEL_DIR + "/fs/fx/fx_provider.ko").toString(), dir);
        assertEquals(2, module.status());
        assertTrue(module.err().contains("not a kernel image"), module.err());

        String kaslr = CliRun.fixtures().resolve("boot/vmlinuz-6.1.0-lkmpre-fixture").toString();
        CliRun refused = CliRun.of("preresolve", "--kernel", kaslr, dir);
        assertEquals(2, refused.status());
        assertTrue(refused.err().contains("--assume-nokaslr"), refused.err());
        assertEquals(1, CliRun.of("preresolve", "--kernel", kaslr, "--assume-nokaslr", "--strip-signature", dir).status());

        assertEquals(2, CliRun.of("preresolve", "--kernel", vmlinux, "--in-place", "--out", "x", dir).status());
        assertEquals(2, CliRun.of("preresolve", "--kernel", vmlinux).status());
        assertEquals(2, CliRun.of("preresolve", dir).status());
        assertEquals(2, CliRun.of("preresolve", "--kernel", vmlinux, tmp.resolve("absent").toString()).status());
        assertEquals(2, CliRun.of("frobnicate").status());
    }

    @Test
    void symversSourceWorksFromTheCommandLine() throws Exception {
        Path fx = CliRun.fixtures();
        CliRun r = CliRun.of("preresolve", "--symvers", fx.resolve("Module.symvers").toString(), "--system-map",
                fx.resolve("System.map").toString(), "--dry-run", "--strip-signature", tree.resolve(KERNEL_DIR).toString());
        assertEquals(0, r.status(), r.err());
        List<String> fromVmlinux = new ArrayList<>(EXPECTED_LINES);
        // Module.symvers names no kernel release: the vermagic check cannot run there.
        fromVmlinux.set(7, "PRERESV drivers/fx/fx_other_kernel.ko (1/1 *fully* preresolved)");
        fromVmlinux.set(9, "PRERESV drivers/fx/fx_signed.ko (8/8 *fully* preresolved)");
        fromVmlinux.set(13, "lkmpre: 13 modules: 12 preresolved (4 fully), 1 already preresolved, 0 refused, 0 failed;"
                + " 24/32 symbols preresolved");
        assertEquals(fromVmlinux, r.lines());
    }

    /** vmlinux, vmlinuz, and Module.symvers + System.map of the same build write the same bytes. */
    @Test
    void everyKernelSourceWritesTheSameBytes() throws Exception {
        Path fx = CliRun.fixtures();
        String dir = tree.resolve(KERNEL_DIR).toString();
        List<List<String>> sources = List.of(List.of("--kernel", vmlinux),
                List.of("--kernel", fx.resolve("boot/vmlinuz-6.1.0-lkmpre-fixture").toString(), "--assume-nokaslr"),
                List.of("--symvers", fx.resolve("Module.symvers").toString(), "--system-map", fx.resolve("System.map").toString()));
        List<Map<String, String>> trees = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            List<String> args = new ArrayList<>(List.of("preresolve", "--strip-signature", "-q", "--out", tmp.resolve("s" + i).toString()));
            args.addAll(sources.get(i));
            args.add(dir);
            CliRun.of(args.toArray(String[]::new));
            Map<String, String> d = new java.util.TreeMap<>(CliRun.digests(tmp.resolve("s" + i)));
            // Module.symvers names no release, so only there is fx_other_kernel not refused.
            d.remove("drivers/fx/fx_other_kernel.ko");
            trees.add(d);
        }
        assertEquals(12, trees.get(0).size());
        assertEquals(trees.get(0), trees.get(1));
        assertEquals(trees.get(0), trees.get(2));
    }

    /** Independent oracle: depmod computes the same dependencies on the patched tree. */
    @Test
    void depmodSeesTheSameDependencies() throws Exception {
        Path patched = tmp.resolve("patched");
        CliRun.copyTree(tree, patched);
        assertEquals(1, CliRun.of("preresolve", "--kernel", vmlinux, "--strip-signature", "-q",
                patched.resolve(KERNEL_DIR).toString()).status());
        String release = "6.1.0-lkmpre-fixture";
        for (Path root : List.of(tree, patched)) {
            Process p = new ProcessBuilder("depmod", "-b", root.toString(), release).inheritIO().start();
            assertEquals(0, p.waitFor());
        }
        String dep = "lib/modules/" + release + "/modules.dep";
        String original = Files.readString(tree.resolve(dep));
        assertTrue(original.contains("kernel/fs/fx/fx_consumer.ko: kernel/fs/fx/fx_provider.ko"), original);
        assertEquals(original, Files.readString(patched.resolve(dep)));
    }

    @Test
    void symbolsCommandListsTheExportTable() throws Exception {
        CliRun r = CliRun.of("symbols", "--kernel", vmlinux);
        assertEquals(0, r.status());
        List<String> rows;
        try (Stream<String> s = Files.lines(CliRun.fixtures().resolve("Module.symvers"))) {
            rows = s.map(l -> l.split("\t", -1)).filter(f -> f[2].equals("vmlinux"))
                    .map(f -> f[1] + "\t" + f[0] + "\t" + f[3] + "\t" + (f[4].isEmpty() ? "-" : f[4])).sorted().toList();
        }
        List<String> ours = r.lines().stream().map(l -> l.split("\t")).map(f -> f[0] + "\t" + f[2] + "\t" + f[3] + "\t" + f[4])
                .sorted().toList();
        assertEquals(rows, ours);
        assertTrue(r.lines().contains("fx_cpu_number\t0000000000000010\t0x7a2af7b4\tEXPORT_SYMBOL\t-"), r.out());
    }
}
