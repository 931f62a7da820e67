package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL at random moments while {@code lkmpre preresolve} rewrites a tree in place: afterwards
 * every module holds its old bytes or its new bytes, never a mix, and a second run finishes the
 * job and leaves no temporary file behind.
 */
class KillDuringRewriteTest {
    private static final int COPIES = 60;
    private static final int TRIALS = 12;

    @TempDir
    Path tmp;

    /**
     * An uninterrupted run over {@link #COPIES} copies of the fixture modules.
     *
     * @param original      the untouched tree, copied for each trial
     * @param before        its module digests
     * @param after         the digests once the run is done
     * @param fullRunMillis how long the run took
     */
    private record Reference(Path original, Map<String, String> before, Map<String, String> after, long fullRunMillis) {
    }

    private Reference reference(String... options) throws Exception {
        Path original = tmp.resolve("original");
        Path modules = CliRun.fixtures().resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel");
        for (int i = 0; i < COPIES; i++) {
            CliRun.copyTree(modules, original.resolve("copy" + i));
        }
        Path reference = tmp.resolve("reference");
        CliRun.copyTree(original, reference);
        long start = System.nanoTime();
        assertEquals(1, rewrite(reference, options).waitFor(), "fx_signed is refused: exit 1");
        long fullRunMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return new Reference(original, CliRun.digests(original), CliRun.digests(reference), fullRunMillis);
    }

    @Test
    void everyModuleIsOldOrNewAfterAKill() throws Exception {
        Reference r = reference("--rename");
        Path original = r.original();
        Map<String, String> before = r.before();
        Map<String, String> after = r.after();
        long fullRunMillis = r.fullRunMillis();
        long rewritten = after.entrySet().stream().filter(e -> !e.getValue().equals(before.get(e.getKey()))).count();
        assertTrue(rewritten >= 8L * COPIES, rewritten + " modules rewritten");

        Random random = new Random(20261203);
        int partial = 0;
        int leftovers = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            Path tree = tmp.resolve("trial" + trial);
            CliRun.copyTree(original, tree);
            Process p = rewrite(tree, "--rename");
            Thread.sleep(random.nextInt((int) Math.max(1, fullRunMillis)));
            p.destroyForcibly(); // SIGKILL on Linux
            p.waitFor();
            int changed = 0;
            for (Map.Entry<String, String> e : CliRun.digests(tree).entrySet()) {
                if (e.getKey().endsWith(".tmp")) {
                    continue; // a write the kill interrupted: hidden, never taken for a module
                }
                String digest = e.getValue();
                assertTrue(digest.equals(before.get(e.getKey())) || digest.equals(after.get(e.getKey())),
                        "trial " + trial + ": " + e.getKey() + " is neither the old nor the new module");
                changed += digest.equals(before.get(e.getKey())) ? 0 : 1;
            }
            partial += changed > 0 && changed < rewritten ? 1 : 0;
            int left = temporaryFiles(tree).size();
            leftovers += left;

            System.out.printf("kill trial %d: %d/%d modules rewritten, %d temporary files left%n", trial, changed, rewritten, left);
            assertEquals(1, rewrite(tree, "--rename").waitFor(), "the second run finishes the job");
            assertEquals(after, CliRun.digests(tree), "trial " + trial + ": after the second run");
            assertEquals(List.of(), temporaryFiles(tree));
        }
        System.out.printf("kill trials: %d of %d stopped mid-tree, %d temporary files removed by the next run%n", partial, TRIALS, leftovers);
        assertTrue(partial > 0, "no kill landed in the middle of the tree; " + TRIALS + " trials over " + fullRunMillis + " ms");
    }

    /**
     * The same in the default in-place mode, which patches each module where it lies: a kill may leave modules between old and new, but
     * each one the next run finishes, to the bytes of an uninterrupted run (at most one module per
     * worker per kill may keep stray bytes from a torn tail write, with the same symbol table).
     */
    @Test
    void patchInPlaceKillsAreFinishedByTheNextRun() throws Exception {
        Reference r = reference();
        Path original = r.original();
        Map<String, String> before = r.before();
        Map<String, String> after = r.after();
        long fullRunMillis = r.fullRunMillis();
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        long start = System.nanoTime();
        assertEquals(0, rewrite(empty).waitFor());
        long startUpMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start); // JVM and kernel: no writes yet

        Random random = new Random(20261204);
        int partial = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            Path tree = tmp.resolve("trial" + trial);
            CliRun.copyTree(original, tree);
            Process p = rewrite(tree);
            Thread.sleep(startUpMillis * 3 / 4 + random.nextInt((int) Math.max(1, fullRunMillis - startUpMillis * 3 / 4)));
            p.destroyForcibly();
            p.waitFor();
            Map<String, String> killed = CliRun.digests(tree);
            long done = killed.keySet().stream().filter(k -> killed.get(k).equals(after.get(k))
                    && !after.get(k).equals(before.get(k))).count();
            partial += done > 0 && done < after.size() ? 1 : 0;
            assertEquals(1, rewrite(tree).waitFor(), "the second run finishes the job");
            Map<String, String> got = CliRun.digests(tree);
            List<String> differ = got.keySet().stream().filter(k -> !got.get(k).equals(after.get(k))).toList();
            assertTrue(differ.size() <= 2, "trial " + trial + ": " + differ);
            System.out.printf("in-place (patch) kill trial %d: %d modules done at the kill, %d with stray bytes after the next run%n",
                    trial, done, differ.size());
        }
        assertTrue(partial > 0, "no kill landed in the middle of the tree; " + TRIALS + " trials over " + fullRunMillis + " ms");
    }

    /** Starts {@code lkmpre preresolve} in place on {@code tree} in a JVM of its own. */
    private static Process rewrite(Path tree, String... options) throws Exception {
        List<String> cmd = CliRun.freshJvm();
        cmd.addAll(List.of("org.lkmpre.cli.Main", "preresolve", "--backend", "java",
                "--kernel", CliRun.fixtures().resolve("boot/vmlinux").toString()));
        cmd.addAll(List.of(options));
        cmd.add(tree.toString());
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static List<Path> temporaryFiles(Path tree) throws Exception {
        try (Stream<Path> s = Files.walk(tree)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList();
        }
    }
}
