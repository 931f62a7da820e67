package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Section;

/**
 * {@code lkmpre-tree} (native/tool/tree.c), the C core over a whole tree without a JVM: it writes
 * what the Java CLI writes, byte for byte and line for line, and finishes what a killed run left.
 * RealKernelTreeTest runs it on the Debian tree, killed at random moments.
 */
class TreeToolTest {
    @TempDir
    Path tmp;

    /** What one run of the tool printed and returned. */
    record Run(int status, List<String> lines, String err) {
    }

    /** Starts lkmpre-tree with {@code args}. */
    static ProcessBuilder command(String... args) {
        Path tool = Path.of(System.getProperty("lkmpre.native.build"), "lkmpre-tree");
        assertTrue(Files.isExecutable(tool), tool + " missing: make -C native");
        List<String> cmd = new ArrayList<>(List.of(tool.toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    static Run tree(String... args) throws Exception {
        Process p = command(args).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), new String(out, StandardCharsets.UTF_8).lines().toList(), err);
    }

    /** A step of a test that may throw, as a value. */
    interface Step<T> {
        T get() throws Exception;
    }

    static <T> T run(Step<T> step) {
        try {
            return step.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A copy of the fixture modules at {@code tmp/name}, with the malformed fixture module among them. */
    private Path copy(String name) throws Exception {
        Path p = tmp.resolve(name);
        CliRun.copyTree(modules(), p);
        Files.copy(CliRun.fixtures().resolve("malformed/fx_truncated.ko"), p.resolve(TRUNCATED));
        return p;
    }

    /** Where the copies hold fx_good cut short inside its section header table. */
    private static final String TRUNCATED = "drivers/fx/fx_truncated.ko";

    private static Path modules() {
        return CliRun.fixtures().resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel");
    }

    private static String vmlinux() {
        return CliRun.fixtures().resolve("boot/vmlinux").toString();
    }

    private Path index() {
        Path idx = tmp.resolve("fixture.lkmidx");
        CliRun run = CliRun.of("index", "--kernel", vmlinux(), "-o", idx.toString());
        assertEquals(0, run.status(), run.err());
        return idx;
    }

    @Test
    void writesWhatTheJavaCliWrites() throws Exception {
        Path java = copy("java");
        Path c = copy("c");
        Map<String, String> before = CliRun.digests(c);
        for (int round = 0; round < 2; round++) {
            CliRun expected = CliRun.of("preresolve", "--backend", "java", "--kernel", vmlinux(), "--strip-signature", "-q",
                    java.toString());
            Run got = tree(index().toString(), c.toString(), "--strip-signature");
            assertEquals(expected.status(), got.status(), got.err());
            assertEquals(expected.lines(), got.lines(), "the same lines, refusal and failure texts included");
            assertEquals(CliRun.digests(java), CliRun.digests(c), "round " + round);
        }
        assertTrue(CliRun.digests(c).entrySet().stream().filter(e -> !e.getValue().equals(before.get(e.getKey()))).count() >= 8,
                "modules rewritten");
        assertTrue(tree(index().toString(), c.toString()).lines().stream().anyMatch(l -> l.startsWith("SKIPPED ")));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), c);
        assertEquals(tree(index().toString(), c.toString() + "/").lines(), tree(index().toString(), link.toString()).lines(),
                "a directory named through a link or with a trailing slash is walked the same");
        assertEquals(CliRun.of("preresolve", "--dry-run", "--kernel", vmlinux(), c.toString()).lines(),
                CliRun.of("preresolve", "--dry-run", "--kernel", vmlinux(), link.toString()).lines(), "and so by the CLI");
    }

    /** `lkmpre preresolve` (patching in place, the default) writes what `--rename` writes. */
    @Test
    void javaPatchInPlaceWritesWhatRenamingWrites() throws Exception {
        Path renamed = copy("renamed");
        Path patched = copy("patched");
        for (String backend : List.of("java", CliRun.nativeBackends().get(0))) {
            CliRun a = CliRun.of("preresolve", "--backend", backend, "--kernel", vmlinux(), "--strip-signature", "-q",
                    "--rename", renamed.toString());
            CliRun b = CliRun.of("preresolve", "--backend", backend, "--kernel", vmlinux(), "--strip-signature", "-q",
                    patched.toString());
            assertEquals(a.status(), b.status(), b.err());
            assertEquals(a.lines(), b.lines());
            assertEquals(CliRun.digests(renamed), CliRun.digests(patched), backend);
        }
        for (String mode : List.of("--rename", "--patch-in-place")) {
            CliRun both = CliRun.of("preresolve", "--kernel", vmlinux(), mode, "--out", tmp.resolve("o").toString(),
                    patched.toString());
            assertEquals(2, both.status(), both.err());
        }
        CliRun twoModes = CliRun.of("preresolve", "--kernel", vmlinux(), "--rename", "--patch-in-place", patched.toString());
        assertEquals(2, twoModes.status(), twoModes.err());
    }

    @Test
    void dryRunWritesNothingAndSignaturesNeedConsent() throws Exception {
        Path c = copy("c");
        Map<String, String> before = CliRun.digests(c);
        Run dry = tree(index().toString(), c.toString(), "--dry-run");
        assertEquals(1, dry.status(), "fx_signed and fx_other_kernel are refused, fx_truncated fails");
        assertTrue(dry.lines().contains("REFUSED drivers/fx/fx_signed.ko (module signature appended; --strip-signature"
                + " removes it, and the module then loads unsigned)"), dry.lines().toString());
        assertTrue(dry.lines().contains("PRERESV drivers/fx/fx_good.ko (8/8 *fully* preresolved)"), dry.lines().toString());
        assertTrue(dry.lines().contains("REFUSED drivers/fx/fx_other_kernel.ko (module is built for kernel 6.1.0-56-amd64,"
                + " kernel is 6.1.0-lkmpre-fixture: its addresses would be wrong)"), dry.lines().toString());
        assertTrue(dry.lines().stream().anyMatch(l -> l.matches("FAILED  " + TRUNCATED
                + " \\(section header table at offset \\d+ \\(size \\d+\\) lies outside the file \\(\\d+ bytes\\)\\)")),
                dry.lines().toString());
        assertEquals(before, CliRun.digests(c));
        for (String backend : List.of("java", CliRun.nativeBackends().get(0))) {
            for (String mode : List.of("--dry-run", "--rename", "--in-place")) {
                Path java = copy(backend + mode);
                assertEquals(dry.lines(), CliRun.of("preresolve", "--backend", backend, "--kernel", vmlinux(), mode, "-q",
                        java.toString()).lines(), "the Java CLI's lines, " + backend + " " + mode);
            }
        }
    }

    @Test
    void badArgumentsExitTwoWithOneLine() throws Exception {
        Path idx = index();
        Run missing = tree(tmp.resolve("none.lkmidx").toString(), tmp.toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().startsWith("lkmpre-tree: " + tmp.resolve("none.lkmidx")), missing.err());
        Run notIndex = tree(vmlinux(), tmp.toString());
        assertEquals(2, notIndex.status());
        assertEquals(1, notIndex.err().lines().count(), notIndex.err());
        Run noDir = tree(idx.toString(), tmp.resolve("nowhere").toString());
        assertEquals(2, noDir.status());
        assertTrue(noDir.err().contains("not a directory"), noDir.err());
        assertEquals(2, tree(idx.toString()).status(), "usage");
        Run help = tree("--help");
        assertEquals(0, help.status());
        assertTrue(help.lines().get(0).startsWith("usage: lkmpre-tree INDEX DIR"), help.lines().toString());
        assertEquals(2, tree(idx.toString(), tmp.toString(), "--bogus").status(), "an unknown option");

        Path config = tmp.resolve("kaslr.config");
        Files.writeString(config, "CONFIG_RANDOMIZE_BASE=y\n");
        Path kaslr = tmp.resolve("kaslr.lkmidx");
        assertEquals(0, CliRun.of("index", "--kernel", vmlinux(), "--config", config.toString(), "-o", kaslr.toString()).status());
        Path c = copy("c");
        Run refused = tree(kaslr.toString(), c.toString());
        assertEquals(2, refused.status());
        assertTrue(refused.err().contains("--assume-nokaslr"), refused.err());
        assertEquals(1, tree(kaslr.toString(), c.toString(), "--assume-nokaslr").status(), "runs, fx_signed refused");
    }

    /**
     * The states a kill can leave, built by hand from the original module and the finished one:
     * each must come out of the next run as the finished module.
     */
    @Test
    void finishesWhatAKilledRunLeft() throws Exception {
        Path idx = index();
        Path dir = tmp.resolve("one");
        Files.createDirectories(dir);
        Path module = dir.resolve("fx_good.ko");
        byte[] original = Files.readAllBytes(modules().resolve("drivers/fx/fx_good.ko"));
        Files.write(module, original);
        assertEquals(0, tree(idx.toString(), dir.toString()).status());
        byte[] finished = Files.readAllBytes(module);
        assertTrue(finished.length > original.length);

        Section symtab = ElfFile.parse("fx_good.ko", original).symbolTable().orElseThrow();
        byte[] tailOnly = Arrays.copyOf(original, finished.length); // step 2 done
        System.arraycopy(finished, original.length, tailOnly, original.length, finished.length - original.length);
        byte[] marked = tailOnly.clone(); // step 3 done
        System.arraycopy(finished, 0, marked, 0, 64);
        byte[] values = marked.clone(); // step 4: every st_value, no st_shndx
        byte[] half = marked.clone(); // step 4: some symbols whole
        int changed = 0;
        for (long at = symtab.offset(); at < symtab.offset() + symtab.size(); at += 24) {
            int a = (int) at;
            if (!Arrays.equals(original, a, a + 24, finished, a, a + 24)) {
                System.arraycopy(finished, a + 8, values, a + 8, 8);
                if (changed++ % 2 == 0) {
                    System.arraycopy(finished, a, half, a, 24);
                }
            }
        }
        assertTrue(changed >= 2, changed + " symbols changed");
        // The tool, `lkmpre preresolve` patching in place (the same protocol in Java) and
        // `--rename` each finish what either left.
        List<java.util.function.Function<String, List<String>>> finishers = List.of(
                mode -> run(() -> mode.equals("--dry-run") ? tree(idx.toString(), dir.toString(), mode).lines()
                        : tree(idx.toString(), dir.toString()).lines()),
                mode -> CliRun.of("preresolve", "--backend", "java", "--index", idx.toString(), mode, "-q", dir.toString()).lines(),
                mode -> CliRun.of("preresolve", "--backend", CliRun.nativeBackends().get(0), "--index", idx.toString(),
                        mode.equals("--dry-run") ? mode : "--rename", "-q", dir.toString()).lines());
        String done = "PRERESV fx_good.ko (8/8 *fully* preresolved)";
        for (var finisher : finishers) {
            for (byte[] state : List.of(tailOnly, marked, values, half)) {
                Files.write(module, state);
                assertEquals(done, finisher.apply("--dry-run").get(0), "a dry run says what is left");
                assertArrayEquals(state, Files.readAllBytes(module));
                assertEquals(done, finisher.apply("--in-place").get(0));
                assertArrayEquals(finished, Files.readAllBytes(module));
            }
            assertTrue(finisher.apply("--in-place").get(0).startsWith("SKIPPED "), "and done once finished");
        }

        // A kill inside the tail's write: the stray bytes stay, the module is still patched right.
        byte[] torn = Arrays.copyOf(original, original.length + 100);
        System.arraycopy(finished, original.length, torn, original.length, 100);
        Files.write(module, torn);
        assertEquals(0, tree(idx.toString(), dir.toString()).status());
        byte[] after = Files.readAllBytes(module);
        int from = (int) symtab.offset();
        int to = (int) (symtab.offset() + symtab.size());
        assertArrayEquals(Arrays.copyOfRange(finished, from, to), Arrays.copyOfRange(after, from, to));
        assertTrue(ElfFile.parse("fx_good.ko", after).section(".preresolved").isPresent());
    }
}
