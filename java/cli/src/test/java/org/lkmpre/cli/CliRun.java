package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the command line in-process and captures what it prints. */
record CliRun(int status, String out, String err) {
    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new CliRun(status, out.toString(), err.toString());
    }

    /** Whether this JDK runs the FFM binding (22 and newer; older JDKs build without it). */
    static final boolean FFM = Runtime.version().feature() >= 22;

    /** @return the C core's bindings this JDK runs, in the order "auto" tries them */
    static List<String> nativeBackends() {
        return FFM ? List.of("ffm", "jna") : List.of("jna");
    }

    /** @return how {@code conform} ends its line on this JDK: nothing, or the FFM binding skipped */
    static String conformSkipped() {
        return FFM ? "" : "; skipped ffm (needs JDK 22 or newer, this is JDK " + Runtime.version().feature() + ")";
    }

    List<String> lines() {
        return out.lines().toList();
    }

    /** Runs a program (an oracle such as readelf) and returns what it printed; it must exit 0. */
    static String exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    static Path fixtures() {
        Path p = Path.of(System.getProperty("lkmpre.fixtures", ""), "x86_64");
        assertTrue(Files.isDirectory(p), p + " does not exist: run fixtures/build.sh");
        return p;
    }

    /**
     * The command that starts a JVM like this one, on this test class path, with native access:
     * append the main class and its arguments.
     *
     * @param options further JVM options, such as system properties
     */
    static List<String> freshJvm(String... options) {
        List<String> cmd = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-cp", classPath()));
        return cmd;
    }

    /**
     * @return this JVM's class path and module path as one class path: a fresh JVM runs lkmpre
     *         from the class path, as the shipped jar does
     */
    static String classPath() {
        String modules = System.getProperty("jdk.module.path", "");
        String classes = System.getProperty("java.class.path", "");
        return modules.isEmpty() ? classes : classes.isEmpty() ? modules : modules + java.io.File.pathSeparator + classes;
    }

    /** Copies a directory tree. */
    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** relative path -> sha256 of every file under {@code dir}. */
    static Map<String, String> digests(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString(), HexFormat.of().formatHex(sha.digest(Files.readAllBytes(p))));
            }
        }
        return out;
    }
}
