package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several runs on one tree at once, as parallel build jobs start them (the Java CLI in both write
 * modes and lkmpre-tree, each a process of its own): every module is patched once (ModuleLock,
 * lkmpre-tree's lock), so the final bytes are one run's, every module is reported preresolved by
 * exactly one run and skipped by the others, and unpreresolve gives back exactly what it gives
 * back after a single run. The same when one run is killed at a random moment.
 */
class ConcurrentRunsTest {
    @TempDir
    Path tmp;

    /** A tree of many fixture modules: 50 copies of the fixture tree's plain modules. */
    private Path fixtureTree() throws IOException {
        Path modules = CliRun.fixtures().resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel");
        Path tree = tmp.resolve("fixture-tree");
        for (int i = 0; i < 50; i++) {
            CliRun.copyTree(modules, tree.resolve("copy" + i));
        }
        return tree;
    }

    private Path index(Path kernel) {
        Path idx = tmp.resolve("kernel.lkmidx");
        CliRun r = CliRun.of("index", "--kernel", kernel.toString(), "-o", idx.toString());
        assertEquals(0, r.status(), r.err());
        return idx;
    }

    /**
     * The command lines of the writers, on {@code dir}: the Java CLI by renaming and patching in
     * place, then lkmpre-tree twice (started once the Java runs are writing: the tool is done with
     * a whole tree in a tenth of a second, before a JVM has read its index).
     */
    private static List<List<String>> writers(Path idx, Path dir) {
        List<String> java = new ArrayList<>(CliRun.freshJvm());
        java.addAll(List.of("org.lkmpre.cli.Main", "preresolve", "--index", idx.toString(), "--strip-signature",
                "--assume-nokaslr", dir.toString()));
        List<String> rename = new ArrayList<>(java);
        rename.add(rename.size() - 1, "--rename");
        List<String> tree = new ArrayList<>(TreeToolTest.command(idx.toString(), dir.toString(), "--strip-signature", "--assume-nokaslr").command());
        return List.of(rename, java, tree, tree);
    }

    /**
     * Starts the two Java runs, then both lkmpre-tree runs at once as soon as the second Java run
     * has reported its first module; {@code killAfterMillis} (if not negative) SIGKILLs the first
     * Java run that long after its start.
     */
    private List<String> runTogether(List<List<String>> commands, long killAfterMillis) throws Exception {
        List<Process> running = new ArrayList<>();
        List<BufferedReader> outputs = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        for (List<String> c : commands) {
            ProcessBuilder pb = new ProcessBuilder(c).redirectError(ProcessBuilder.Redirect.DISCARD);
            if (running.isEmpty() && killAfterMillis >= 0) {
                pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            }
            if (running.size() == 2) {
                String first = outputs.get(1).readLine(); // the Java runs are writing now
                if (first != null) {
                    lines.add(first);
                }
            }
            Process p = pb.start();
            running.add(p);
            outputs.add(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
        }
        if (killAfterMillis >= 0) {
            Thread.sleep(killAfterMillis);
            running.get(0).destroyForcibly();
        }
        for (int i = 0; i < running.size(); i++) {
            Process p = running.get(i);
            String out = outputs.get(i).lines().collect(Collectors.joining("\n"));
            assertTrue(p.waitFor(5, TimeUnit.MINUTES));
            if (i > 0 || killAfterMillis < 0) {
                assertTrue(p.exitValue() <= 1, commands.get(i) + " exited " + p.exitValue() + ":\n" + out);
                lines.addAll(out.lines().toList());
            }
        }
        return lines;
    }

    /** Digests of the modules only (a killed rename-mode run may leave a temporary file). */
    private static Map<String, String> modules(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>(CliRun.digests(dir));
        out.keySet().removeIf(name -> !name.endsWith(".ko"));
        return out;
    }

    private static Map<String, Integer> count(List<String> lines, String kind) {
        Map<String, Integer> out = new HashMap<>();
        lines.stream().filter(l -> l.startsWith(kind + " ")).map(l -> l.substring(8, l.lastIndexOf(" (")))
                .forEach(name -> out.merge(name, 1, Integer::sum));
        return out;
    }

    private void check(Path original, Path idx, long killAfterMillis) throws Exception {
        Path reference = tmp.resolve("reference");
        CliRun.copyTree(original, reference);
        TreeToolTest.Run alone = TreeToolTest.tree(idx.toString(), reference.toString(), "--strip-signature", "--assume-nokaslr");
        Map<String, Integer> preresolvedAlone = count(alone.lines(), "PRERESV");
        assertTrue(preresolvedAlone.size() >= 500, preresolvedAlone.size() + " modules");

        Path shared = tmp.resolve("shared");
        CliRun.copyTree(original, shared);
        List<String> lines = runTogether(writers(idx, shared), killAfterMillis);
        if (killAfterMillis >= 0) {
            // The killed run's work is finished by a run after it, as after any kill.
            lines.addAll(TreeToolTest.tree(idx.toString(), shared.toString(), "--strip-signature", "--assume-nokaslr").lines());
        } else {
            Map<String, Integer> preresolved = count(lines, "PRERESV");
            assertEquals(preresolvedAlone.keySet(), preresolved.keySet(), "the runs preresolve what one run does");
            preresolved.forEach((name, n) -> assertEquals(1, n, name + " preresolved by " + n + " runs"));
            assertEquals(3 * preresolvedAlone.size(), count(lines, "SKIPPED").entrySet().stream()
                    .filter(e -> preresolvedAlone.containsKey(e.getKey())).mapToInt(Map.Entry::getValue).sum(),
                    "and each other run skips each of them");
        }
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("FAILED")), String.join("\n", lines));
        Map<String, String> once = modules(reference);
        assertEquals(once, modules(shared), "the bytes of one run");

        for (Path dir : List.of(reference, shared)) {
            CliRun restore = CliRun.of("unpreresolve", "--in-place", dir.toString());
            assertEquals(0, restore.status(), restore.out());
        }
        Map<String, String> restored = modules(reference);
        assertNotEquals(once, restored);
        assertEquals(restored, modules(shared), "unpreresolve gives back what it gives back after one run");
    }

    @Test
    void concurrentRunsOnTheFixtureTree() throws Exception {
        check(fixtureTree(), index(CliRun.fixtures().resolve("boot/vmlinux")), -1);
    }

    @Test
    void aRunKilledWhileOthersGoOn() throws Exception {
        long kill = 300 + new Random().nextInt(1500);
        check(fixtureTree(), index(CliRun.fixtures().resolve("boot/vmlinux")), kill);
    }

    /** The real Debian tree (4023 modules), where two unlocked runs damaged 17 to 47 modules. */
    @Test
    void concurrentRunsOnTheRealTree() throws Exception {
        String data = System.getProperty("lkmpre.realdata", "");
        assumeTrue(!data.isEmpty(), "no real kernel data (-Dlkmpre.realdata)");
        Path vmlinuz;
        try (Stream<Path> s = Files.list(Path.of(data, "boot"))) {
            vmlinuz = s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst().orElseThrow();
        }
        String release = vmlinuz.getFileName().toString().substring("vmlinuz-".length());
        check(Path.of(data, "lib/modules", release, "kernel"), index(vmlinuz), -1);
    }
}
