package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.lkmpre.kernel.KernelSource;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.simulate.LoadOrder;
import org.lkmpre.simulate.ModuleFacts;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real thing: Debian 12's amd64 kernel package (vmlinuz, 4023 signed modules) and its
 * Module.symvers, checked against oracles lkmpre did not write: Module.symvers from the build,
 * readelf, and depmod. Runs when {@code -Dlkmpre.realdata=DIR} names an extraction made by
 * ci/realdata; ci/test always provides it and sets {@code lkmpre.realdata.required}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RealKernelTreeTest {
    @TempDir
    static Path tmp;

    Path data;
    String release;
    Path vmlinuz;
    Path symvers;
    Path modules;
    Path patchedRoot;
    CliRun run;
    /** name -> exported-symbol line of `lkmpre symbols` */
    Map<String, String[]> exports = new HashMap<>();

    @BeforeAll
    void preresolveTheWholeTree() throws Exception {
        String dir = System.getProperty("lkmpre.realdata", "");
        if (Boolean.getBoolean("lkmpre.realdata.required")) {
            assertTrue(!dir.isEmpty() && Files.isDirectory(Path.of(dir)), "lkmpre.realdata is required but is '" + dir + "'");
        }
        assumeTrue(!dir.isEmpty(), "no real kernel data (-Dlkmpre.realdata)");
        data = Path.of(dir);
        try (Stream<Path> s = Files.list(data.resolve("boot"))) {
            vmlinuz = s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst().orElseThrow();
        }
        release = vmlinuz.getFileName().toString().substring("vmlinuz-".length());
        modules = data.resolve("lib/modules/" + release);
        try (Stream<Path> s = Files.walk(data.resolve("usr/src"))) {
            symvers = s.filter(p -> p.getFileName().toString().equals("Module.symvers")).findFirst().orElseThrow();
        }
        CliRun symbols = CliRun.of("symbols", "--kernel", vmlinuz.toString());
        assertEquals(0, symbols.status(), symbols.err());
        symbols.lines().forEach(l -> exports.put(l.split("\t")[0], l.split("\t")));

        patchedRoot = tmp.resolve("patched");
        Path patched = patchedRoot.resolve("lib/modules/" + release);
        run = CliRun.of("preresolve", "--kernel", vmlinuz.toString(), "--assume-nokaslr", "--strip-signature", "-q",
                "--json", tmp.resolve("report.json").toString(), "--out", patched.resolve("kernel").toString(),
                modules.resolve("kernel").toString());
        for (String f : List.of("modules.order", "modules.builtin", "modules.builtin.modinfo")) {
            if (Files.exists(modules.resolve(f))) {
                Files.copy(modules.resolve(f), patched.resolve(f));
            }
        }
    }

    @Test
    void exportTableEqualsModuleSymvers() throws Exception {
        Map<String, String> expected = new TreeMap<>();
        for (String line : Files.readAllLines(symvers, StandardCharsets.ISO_8859_1)) {
            String[] f = line.split("\t", -1);
            if (f[2].equals("vmlinux")) {
                expected.put(f[1], f[0] + " " + f[3] + " " + (f[4].isEmpty() ? "-" : f[4]));
            }
        }
        Map<String, String> ours = new TreeMap<>();
        exports.forEach((name, f) -> ours.put(name, f[2] + " " + f[3] + " " + f[4]));
        assertTrue(expected.size() > 10_000, "Debian's 6.1 exports over 10,000 symbols: " + expected.size());
        assertEquals(expected, ours);
    }

    @Test
    void everyModuleIsPreresolved() throws Exception {
        assertEquals(0, run.status(), run.err());
        List<String> lines = run.lines();
        long modules = lines.stream().filter(l -> l.startsWith("PRERESV ")).count();
        assertTrue(modules > 4000, "modules: " + modules);
        assertEquals(modules + 1, lines.size(), "only PRERESV lines and the summary");
        assertTrue(lines.stream().anyMatch(l -> l.matches("PRERESV drivers/ata/libata\\.ko \\(\\d+/\\d+ preresolved\\)")));
        assertTrue(lines.get(lines.size() - 1).contains(" 0 refused, 0 failed"), lines.get(lines.size() - 1));
    }

    /** readelf on every patched module: each symbol lkmpre made ABS carries the address `symbols` lists. */
    @Test
    void readelfSeesTheKernelAddresses() throws Exception {
        List<String> files = patchedModules();
        long abs = 0;
        long und = 0;
        for (int i = 0; i < files.size(); i += 400) {
            List<String> cmd = new ArrayList<>(List.of("readelf", "-sW"));
            cmd.addAll(files.subList(i, Math.min(files.size(), i + 400)));
            for (String line : readelf(cmd).lines().toList()) {
                String[] f = line.trim().split("\\s+");
                if (f.length != 8 || !f[0].endsWith(":")) {
                    continue;
                }
                if (f[6].equals("ABS") && exports.containsKey(f[7])) {
                    assertEquals(exports.get(f[7])[1], f[1], f[7]);
                    abs++;
                } else if (f[6].equals("UND") && !f[7].isEmpty()) {
                    und++;
                }
            }
        }
        String summary = run.lines().get(run.lines().size() - 1);
        // "...; P/U symbols preresolved": readelf counts the same P and the same U - P.
        String[] counts = summary.replaceAll(".*; (\\d+)/(\\d+) symbols.*", "$1 $2").split(" ");
        assertEquals(Long.parseLong(counts[0]), abs, summary);
        assertEquals(Long.parseLong(counts[1]) - Long.parseLong(counts[0]), und, summary);
    }

    @Test
    void readelfReadsEveryPatchedModuleCleanly() throws Exception {
        List<String> files = patchedModules();
        for (int i = 0; i < files.size(); i += 400) {
            List<String> cmd = new ArrayList<>(List.of("readelf", "-aW"));
            cmd.addAll(files.subList(i, Math.min(files.size(), i + 400)));
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS));
            assertEquals("", err);
            assertEquals(0, p.exitValue());
        }
    }

    @Test
    void depmodComputesTheSameDependencies() throws Exception {
        // depmod writes modules.dep into the extraction: that is a scratch cache of ours.
        depmod(data);
        depmod(patchedRoot);
        String before = Files.readString(modules.resolve("modules.dep"));
        String after = Files.readString(patchedRoot.resolve("lib/modules/" + release + "/modules.dep"));
        assertTrue(before.lines().count() > 4000);
        assertEquals(before, after);
    }

    /**
     * The simulator's computed dependencies against two oracles: modpost's depends= in each
     * module, and depmod's modules.dep (transitive). Then a simulation of the whole tree, whose
     * counts must agree with the preresolve report.
     */
    @Test
    void simulatorDependenciesMatchModinfoAndDepmod() throws Exception {
        depmod(data);
        KernelSymbols kernel = KernelSource.detect(vmlinuz).read(Optional.empty());
        List<ModuleFacts> facts;
        try (Stream<Path> walk = Files.walk(modules.resolve("kernel"))) {
            facts = walk.filter(p -> p.toString().endsWith(".ko")).sorted().toList().parallelStream().map(p -> {
                try {
                    return ModuleFacts.read(modules.relativize(p).toString(), Files.readAllBytes(p));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
        LoadOrder computed = LoadOrder.computed(facts, kernel);
        assertEquals(List.of(), computed.cycles());
        LoadOrder fromDep = LoadOrder.fromModulesDep(facts, modules.resolve("modules.dep"));
        int withDeps = 0;
        for (int m = 0; m < facts.size(); m++) {
            Set<String> direct = new TreeSet<>();
            computed.depends().get(m).forEach(d -> direct.add(facts.get(d).name()));
            assertEquals(new TreeSet<>(facts.get(m).depends()), direct, facts.get(m).path());
            Set<Integer> closure = new TreeSet<>();
            java.util.ArrayDeque<Integer> todo = new java.util.ArrayDeque<>(computed.depends().get(m));
            while (!todo.isEmpty()) {
                int d = todo.pop();
                if (closure.add(d)) {
                    todo.addAll(computed.depends().get(d));
                }
            }
            assertEquals(closure, new TreeSet<>(fromDep.depends().get(m)), facts.get(m).path());
            withDeps += closure.isEmpty() ? 0 : 1;
        }
        assertTrue(withDeps > 2000, "modules with dependencies: " + withDeps);
        for (LoadOrder order : List.of(computed, fromDep)) {
            int[] position = new int[facts.size()];
            for (int p = 0; p < facts.size(); p++) {
                position[order.order().get(p)] = p;
            }
            for (int m = 0; m < facts.size(); m++) {
                for (int d : order.depends().get(m)) {
                    assertTrue(position[d] < position[m], facts.get(d).name() + " loads before " + facts.get(m).name());
                }
            }
        }

        Path json = tmp.resolve("simulate.json");
        CliRun sim = CliRun.of("simulate", "--kernel", vmlinuz.toString(), "--modules", modules.toString(), "--computed-deps",
                "--strategy", "bsearch,gnu-bloom,preresolved,direct", "--rounds", "1", "--backend", "java,auto",
                "--json", json.toString());
        assertEquals(0, sim.status(), sim.err());
        String summary = run.lines().get(run.lines().size() - 1);
        java.util.regex.Matcher refs = java.util.regex.Pattern
                .compile("references (\\d+): vmlinux (\\d+), modules (\\d+), unresolved (\\d+);").matcher(sim.out());
        assertTrue(refs.find(), sim.out());
        long total = Long.parseLong(refs.group(1));
        assertEquals(total, Long.parseLong(refs.group(2)) + Long.parseLong(refs.group(3)) + Long.parseLong(refs.group(4)));
        assertTrue(summary.contains(refs.group(2) + "/" + total + " symbols preresolved"),
                "vmlinux references equal the preresolved ones: " + summary);
        assertTrue(Long.parseLong(refs.group(3)) > 30_000, "module-to-module references: " + refs.group(3));
        long runs = sim.lines().stream().filter(l -> l.matches("(bsearch|gnu-bloom|preresolved|direct) +(java|ffm|jna) .*")).count();
        assertTrue(runs == 4 || runs == 8, sim.out());
        // Every backend counts the same (checked inside), and both full searches probe the same tables.
        Map<String, List<Long>> counts = SimulateCommandTest.Counts.of(json).perStrategy();
        assertEquals(counts.get("bsearch").get(0), counts.get("gnu-bloom").get(0), "probes");
        assertTrue(counts.get("gnu-bloom").get(2) > counts.get("gnu-bloom").get(0) * 9 / 10, "Bloom rejections: " + counts);
    }

    private void depmod(Path root) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("depmod", "-b", root.toString(), release).inheritIO().start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
    }

    @Test
    void symversSourceDecidesTheSameAsVmlinuz() throws Exception {
        // Module.symvers carries the build's own CRCs and namespaces; addresses come from a
        // System.map written from vmlinuz (Debian ships a placeholder).
        Path map = tmp.resolve("System.map");
        List<String> lines = new ArrayList<>();
        exports.forEach((name, f) -> lines.add(f[1] + " T " + name));
        Files.write(map, lines);
        Path sample = modules.resolve("kernel/drivers/ata");
        CliRun a = CliRun.of("preresolve", "--kernel", vmlinuz.toString(), "--assume-nokaslr", "--strip-signature",
                "--dry-run", sample.toString());
        CliRun b = CliRun.of("preresolve", "--symvers", symvers.toString(), "--system-map", map.toString(),
                "--config", data.resolve("boot/config-" + release).toString(), "--assume-nokaslr", "--strip-signature",
                "--dry-run", sample.toString());
        assertEquals(0, a.status(), a.err());
        assertEquals(a.out(), b.out());
    }

    /** All backends and cross targets, byte for byte, on every real module; and the C and Java index writers. */
    @Test
    void backendsConformOnTheWholeTree() throws Exception {
        CliRun r = CliRun.of("conform", "--kernel", vmlinuz.toString(), "--assume-nokaslr", "--strip-signature",
                modules.resolve("kernel").toString());
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().matches("lkmpre conform: \\d+ modules, backends " + String.join(", ", CliRun.nativeBackends())
                + ", java: all identical" + java.util.regex.Pattern.quote(CliRun.conformSkipped()) + "\\s*"), r.out());
        List<String> targets = TargetConformance.run(vmlinuz, new PreresolveOptions(true, true), TargetConformance.built(),
                List.of(modules.resolve("kernel")));
        assertTrue(targets.size() == 1 && targets.get(0).matches("\\d+ modules, targets arm \\(qemu-arm\\), sh4 \\(qemu-sh4\\),"
                + " sh4eb \\(qemu-sh4eb\\), x86_64 \\(native\\): all identical"), String.join("\n", targets));

        Path vmlinux = tmp.resolve("vmlinux");
        Path fromJava = tmp.resolve("java.lkmidx");
        Path fromC = tmp.resolve("c.lkmidx");
        assertEquals(0, CliRun.of("extract", "--kernel", vmlinuz.toString(), "-o", vmlinux.toString()).status());
        assertEquals(0, CliRun.of("index", "--kernel", vmlinux.toString(), "-o", fromJava.toString()).status());
        Process p = new ProcessBuilder(System.getProperty("lkmpre.native.driver"), "index", vmlinux.toString(),
                fromC.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(fromC), Files.readAllBytes(fromJava)), "index bytes differ");
    }

    /** unpreresolve gives every real module back: sha256 equal to the original, signature aside. */
    @Test
    void unpreresolveRestoresTheOriginals() throws Exception {
        Path restored = tmp.resolve("restored");
        CliRun r = CliRun.of("unpreresolve", "--out", restored.toString(),
                patchedRoot.resolve("lib/modules/" + release + "/kernel").toString());
        assertEquals(0, r.status(), r.out());
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        int compared = 0;
        for (String file : patchedModules()) {
            String rel = patchedRoot.resolve("lib/modules/" + release + "/kernel").relativize(Path.of(file)).toString();
            byte[] original = Files.readAllBytes(modules.resolve("kernel").resolve(rel));
            int image = org.lkmpre.module.KernelModule.parse(rel, original).signature()
                    .map(org.lkmpre.module.ModuleSignature::imageLength).orElse(original.length);
            byte[] want = sha.digest(java.util.Arrays.copyOf(original, image));
            byte[] got = sha.digest(Files.readAllBytes(restored.resolve(rel)));
            assertTrue(java.util.Arrays.equals(want, got), rel);
            compared++;
        }
        assertTrue(compared > 4000, "compared " + compared);
    }

    /**
     * lkmpre-tree, the C core over the tree with threads and in-place writes: every module and
     * every line as the Java CLI wrote them. Then SIGKILL at random moments: each killed run
     * leaves modules a later run turns into the same bytes (at most one per worker per kill may
     * keep stray bytes from a torn tail write, with the same symbols).
     */
    @Test
    void treeToolWritesWhatTheJavaCliWritesAndSurvivesKills() throws Exception {
        Path idx = tmp.resolve("tree.lkmidx");
        assertEquals(0, CliRun.of("index", "--kernel", vmlinuz.toString(), "-o", idx.toString()).status());
        Path fromJava = patchedRoot.resolve("lib/modules/" + release + "/kernel");
        Map<String, String> expected = CliRun.digests(fromJava);
        Path c = tmp.resolve("tree-tool");
        CliRun.copyTree(modules.resolve("kernel"), c);
        long start = System.nanoTime();
        TreeToolTest.Run full = TreeToolTest.tree(idx.toString(), c.toString(), "--strip-signature", "--assume-nokaslr");
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(0, full.status(), full.err());
        assertEquals(run.lines(), full.lines());
        assertEquals(expected, CliRun.digests(c));

        Map<String, String> original = CliRun.digests(modules.resolve("kernel"));
        java.util.Random random = new java.util.Random(20261203);
        int midTree = 0;
        for (int trial = 0; trial < 6; trial++) {
            Path t = tmp.resolve("kill" + trial);
            CliRun.copyTree(modules.resolve("kernel"), t);
            Process p = TreeToolTest.command(idx.toString(), t.toString(), "--strip-signature", "--assume-nokaslr")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            Thread.sleep(random.nextInt((int) Math.max(1, millis)));
            p.destroyForcibly();
            p.waitFor();
            Map<String, String> killed = CliRun.digests(t);
            long done = killed.keySet().stream().filter(k -> killed.get(k).equals(expected.get(k))).count();
            long between = killed.keySet().stream().filter(k -> !killed.get(k).equals(expected.get(k))
                    && !killed.get(k).equals(original.get(k))).count();
            midTree += done > 0 && done < expected.size() ? 1 : 0;
            TreeToolTest.Run again = TreeToolTest.tree(idx.toString(), t.toString(), "--strip-signature", "--assume-nokaslr");
            assertEquals(0, again.status(), again.err());
            Map<String, String> got = CliRun.digests(t);
            List<String> differ = got.keySet().stream().filter(k -> !got.get(k).equals(expected.get(k))).toList();
            assertTrue(differ.size() <= 2, "trial " + trial + ": " + differ);
            for (String rel : differ) {
                byte[] want = Files.readAllBytes(fromJava.resolve(rel));
                byte[] have = Files.readAllBytes(t.resolve(rel));
                org.lkmpre.elf.Section symtab = org.lkmpre.elf.ElfFile.parse(rel, want).symbolTable().orElseThrow();
                int from = (int) symtab.offset();
                int to = (int) (symtab.offset() + symtab.size());
                assertTrue(java.util.Arrays.equals(want, from, to, have, from, to), rel + ": symbols differ");
            }
            System.out.printf("lkmpre-tree kill trial %d (full run %d ms): killed with %d modules done, %d part-written;"
                    + " after the next run %d with stray bytes%n", trial, millis, done, between, differ.size());
        }
        assertTrue(midTree > 0, "no kill landed in the middle of the tree");
    }

    private List<String> patchedModules() throws IOException {
        try (Stream<Path> s = Files.walk(patchedRoot.resolve("lib/modules/" + release + "/kernel"))) {
            return s.filter(p -> p.toString().endsWith(".ko")).map(Path::toString).sorted().toList();
        }
    }

    private static String readelf(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        return out;
    }
}
