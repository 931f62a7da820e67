package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.Backends;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.preresolve.Preresolver;
import static org.lkmpre.testing.Outcomes.output;

/** The native backends and the Java reference give the same bytes, reports and output. */
class BackendConformanceTest {
    @TempDir
    Path tmp;

    @Test
    void everyBackendIsAvailableInTheBuild() {
        Map<String, String> all = Backends.all();
        assertEquals(List.of("ffm", "jna", "java"), List.copyOf(all.keySet()));
        all.forEach((name, why) -> assertEquals(CliRun.nativeBackends().contains(name) || name.equals("java"), why.isEmpty(),
                name + ": " + why));
    }

    @Test
    void conformOnTheFixtures() {
        Path fx = CliRun.fixtures();
        CliRun r = CliRun.of("conform", "--kernel", fx.resolve("boot/vmlinux").toString(), "--strip-signature",
                fx.resolve("root").toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertEquals(List.of("lkmpre conform: 13 modules, backends " + String.join(", ", CliRun.nativeBackends())
                + ", java: all identical" + CliRun.conformSkipped()), r.lines());
    }

    @ParameterizedTest
    @MethodSource("org.lkmpre.cli.CliRun#nativeBackends")
    void sameOutputLinesAndBytesWhateverTheBackend(String backend) throws Exception {
        Path fx = CliRun.fixtures();
        Path tree = fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel");
        Path javaOut = tmp.resolve("java");
        Path nativeOut = tmp.resolve(backend);
        Path javaJson = tmp.resolve("java.json");
        Path nativeJson = tmp.resolve(backend + ".json");
        CliRun j = CliRun.of("preresolve", "--backend", "java", "--kernel", fx.resolve("boot/vmlinux").toString(),
                "--out", javaOut.toString(), "--json", javaJson.toString(), tree.toString());
        CliRun n = CliRun.of("preresolve", "--backend", backend, "--kernel", fx.resolve("boot/vmlinux").toString(),
                "--out", nativeOut.toString(), "--json", nativeJson.toString(), tree.toString());
        assertEquals(1, j.status(), "fx_signed is refused");
        assertEquals(j.status(), n.status());
        assertEquals(j.out(), n.out());
        assertEquals(Files.readString(javaJson), Files.readString(nativeJson));
        Map<String, String> a = CliRun.digests(javaOut);
        assertEquals(a, CliRun.digests(nativeOut));
        assertTrue(a.size() >= 10, a.toString());
    }

    /**
     * Writing in place (the C core's whole-file run, for a native backend) and dry runs give the
     * Java reference's lines, report and bytes: on the fixtures, a malformed module (which the
     * whole-file run leaves to the per-module path), a compressed one (never given to it), and
     * a second run over what the first wrote.
     */
    @ParameterizedTest
    @MethodSource("org.lkmpre.cli.CliRun#nativeBackends")
    void inPlaceSameWhateverTheBackend(String backend) throws Exception {
        Path fx = CliRun.fixtures();
        Map<String, List<String>> seen = new java.util.LinkedHashMap<>();
        for (String b : List.of("java", backend)) {
            Path tree = tmp.resolve(b);
            CliRun.copyTree(fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel"), tree);
            Files.copy(fx.resolve("malformed/fx_truncated.ko"), tree.resolve("fx_truncated.ko"));
            try (var gz = new java.util.zip.GZIPOutputStream(Files.newOutputStream(tree.resolve("fx_good_copy.ko.gz")))) {
                gz.write(Files.readAllBytes(tree.resolve("drivers/fx/fx_good.ko")));
            }
            List<String> got = new ArrayList<>();
            for (String run : List.of("--dry-run", "first", "second")) {
                Path json = tmp.resolve(b + run + ".json");
                List<String> args = new ArrayList<>(List.of("preresolve", "--backend", b, "--kernel",
                        fx.resolve("boot/vmlinux").toString(), "--json", json.toString(), tree.toString()));
                if (run.equals("--dry-run")) {
                    args.add(1, run);
                }
                CliRun r = CliRun.of(args.toArray(String[]::new));
                assertEquals(1, r.status(), "fx_signed is refused, fx_truncated fails: " + r.out() + r.err());
                got.add(r.out() + Files.readString(json) + CliRun.digests(tree));
            }
            seen.put(b, got);
        }
        assertTrue(seen.get("java").get(1).contains("PRERESV drivers/fx/fx_good.ko (8/8 *fully* preresolved)"),
                seen.get("java").get(1));
        assertEquals(seen.get("java"), seen.get(backend));
    }

    /**
     * Output does not depend on the JVM: every backend, run twice in a fresh JVM (one CPU, then two,
     * so the tree is walked by one worker and by several), writes the same modules, report and lines.
     */
    @Test
    void sameOutputFromFreshJvms() throws Exception {
        Path fx = CliRun.fixtures();
        List<String> backends = new ArrayList<>(CliRun.nativeBackends());
        backends.add("java");
        List<String> seen = new ArrayList<>();
        for (String backend : backends) {
            for (int cpus = 1; cpus <= 2; cpus++) {
                Path out = tmp.resolve(backend + cpus);
                ProcessBuilder pb = new ProcessBuilder(CliRun.freshJvm("-XX:ActiveProcessorCount=" + cpus));
                pb.command().addAll(List.of("org.lkmpre.cli.Main", "preresolve", "--backend", backend, "--kernel",
                        fx.resolve("boot/vmlinux").toString(), "--strip-signature", "--out", out.resolve("tree").toString(),
                        "--json", out.resolve("report.json").toString(), fx.resolve("root").toString()));
                Process p = pb.redirectError(ProcessBuilder.Redirect.INHERIT).start();
                String lines = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                assertEquals(1, p.waitFor(), "fx_other_kernel is refused; " + backend + ": " + lines);
                Map<String, String> files = CliRun.digests(out);
                assertTrue(files.size() >= 12, files.toString());
                seen.add(lines + files);
            }
        }
        assertEquals(List.of(seen.get(0)), seen.stream().distinct().toList(), "runs differ: " + backends);
    }

    /** The C core's own index builder writes the bytes the Java writer writes. */
    @Test
    void indexFileIsTheSameFromCAndJava() throws Exception {
        Path fx = CliRun.fixtures();
        Path fromJava = tmp.resolve("java.lkmidx");
        Path fromC = tmp.resolve("c.lkmidx");
        assertEquals(0, CliRun.of("index", "--kernel", fx.resolve("boot/vmlinux").toString(), "-o", fromJava.toString()).status());
        Process p = new ProcessBuilder(System.getProperty("lkmpre.native.driver"), "index",
                fx.resolve("boot/vmlinux").toString(), fromC.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
        assertArrayEquals(Files.readAllBytes(fromC), Files.readAllBytes(fromJava));

        CliRun viaIndex = CliRun.of("preresolve", "--index", fromJava.toString(), "--dry-run", "--strip-signature",
                fx.resolve("root").toString());
        CliRun viaKernel = CliRun.of("preresolve", "--kernel", fx.resolve("boot/vmlinux").toString(), "--dry-run",
                "--strip-signature", fx.resolve("root").toString());
        assertEquals(viaKernel.out(), viaIndex.out());
    }

    /**
     * A JVM given nothing but the class path (no library property, no environment variable)
     * extracts the library packaged in the core jar and runs both bindings on it.
     */
    @ParameterizedTest
    @MethodSource("org.lkmpre.cli.CliRun#nativeBackends")
    void packagedLibraryNeedsNoConfiguration(String backend) throws Exception {
        Path fx = CliRun.fixtures();
        String[] args = {"preresolve", "--backend", backend, "--kernel", fx.resolve("boot/vmlinux").toString(), "--dry-run",
                "--strip-signature", fx.resolve("root").toString()};
        ProcessBuilder pb = new ProcessBuilder(CliRun.freshJvm("-Dlkmpre.cache=" + tmp.resolve("cache")));
        pb.command().add("org.lkmpre.cli.Main");
        pb.command().addAll(List.of(args));
        pb.environment().remove("LKMPRE_NATIVE_LIBRARY");
        Process p = pb.redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        args[2] = "java";
        CliRun java = CliRun.of(args);
        assertEquals(java.status(), p.waitFor(), out);
        assertEquals(java.out(), out);
        try (var files = Files.walk(tmp.resolve("cache"))) {
            // The library, and the fixture kernel's exports (docs/design.md, "The export cache").
            assertEquals(List.of("exports/*.lkmcache", "native-*/liblkmpre.so"), files.filter(Files::isRegularFile)
                    .map(f -> tmp.resolve("cache").relativize(f).toString().replaceAll("^native-[0-9a-f]+-[0-9]+", "native-*")
                            .replaceAll("^exports/[0-9a-f-]+\\.", "exports/*."))
                    .sorted().toList());
        }
    }

    /** One backend shared by eight threads gives every thread the single-threaded answer. */
    @ParameterizedTest
    @MethodSource("backendsHere")
    void oneBackendServesManyThreads(String name) throws Exception {
        Path fx = CliRun.fixtures();
        Preresolver reference = Preresolver.create(new Vmlinux(fx.resolve("boot/vmlinux")).read(),
                new PreresolveOptions(true, false));
        Backend backend = Backends.open(name, reference);
        List<byte[]> modules = new ArrayList<>();
        try (var files = Files.walk(fx.resolve("root"))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".ko")).sorted().toList()) {
                modules.add(Files.readAllBytes(f));
            }
        }
        List<String> expected = new ArrayList<>();
        for (byte[] m : modules) {
            expected.add(fingerprint(reference.preresolve("m.ko", m), m));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> runs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                runs.add(pool.submit(() -> {
                    for (int round = 0; round < 50; round++) {
                        for (int i = 0; i < modules.size(); i++) {
                            assertEquals(expected.get(i), fingerprint(backend.preresolve("m.ko", modules.get(i)), modules.get(i)));
                        }
                    }
                    return true;
                }));
            }
            for (var r : runs) {
                assertTrue(r.get());
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS));
            backend.close();
        }
    }

    private static String fingerprint(Outcome o, byte[] module) {
        return o.report() + " " + Arrays.hashCode(output(o, module));
    }

    static List<String> backendsHere() {
        List<String> all = new ArrayList<>(CliRun.nativeBackends());
        all.add("java");
        return all;
    }

    /** On a JDK without FFM, asking for it says why in one line (exit 2). */
    @Test
    void ffmOnAnOlderJdkSaysWhy() {
        Assumptions.assumeFalse(CliRun.FFM, "this JDK runs FFM");
        Path fx = CliRun.fixtures();
        CliRun r = CliRun.of("preresolve", "--backend", "ffm", "--dry-run", "--kernel", fx.resolve("boot/vmlinux").toString(),
                fx.resolve("root").toString());
        assertEquals(2, r.status());
        assertEquals("lkmpre: error: backend ffm is not available: needs JDK 22 or newer, this is JDK "
                + Runtime.version().feature(), r.err().strip());
    }

    @Test
    void unknownBackendIsAUsageError() {
        Path fx = CliRun.fixtures();
        CliRun r = CliRun.of("preresolve", "--backend", "cuda", "--kernel", fx.resolve("boot/vmlinux").toString(),
                fx.resolve("root").toString());
        assertEquals(2, r.status());
        assertEquals("lkmpre: error: no backend called cuda (known: ffm, jna, java)", r.err().strip());
    }
}
