package org.lkmpre.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Where the fixtures that fixtures/build.sh generates live, and small helpers around them. */
public final class Fixtures {
    public static final String RELEASE = "6.1.0-lkmpre-fixture";

    private Fixtures() {
    }

    /** @return the x86_64 fixture directory (fails the test if it was not built) */
    public static Path x86_64() {
        String dir = System.getProperty("lkmpre.fixtures", "");
        assertTrue(!dir.isEmpty(), "system property lkmpre.fixtures is not set");
        Path p = Path.of(dir, "x86_64");
        assertTrue(Files.isDirectory(p), p + " does not exist: run fixtures/build.sh");
        return p;
    }

    public static Path vmlinux() {
        return x86_64().resolve("boot/vmlinux");
    }

    public static Path moduleDir() {
        return x86_64().resolve("root/lib/modules/" + RELEASE + "/kernel");
    }

    public static Path module(String name) {
        Path drivers = moduleDir().resolve("drivers/fx/" + name + ".ko");
        return Files.exists(drivers) ? drivers : moduleDir().resolve("fs/fx/" + name + ".ko");
    }

    /** Runs a program (an independent oracle such as readelf) and returns its standard output. */
    public static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        assertTrue(p.exitValue() == 0, "exit " + p.exitValue() + ": " + String.join(" ", command));
        return new String(out, StandardCharsets.UTF_8);
    }

    /**
     * The rows of a file's {@code .symtab} as readelf prints them (an oracle lkmpre did not
     * write): Num, Value (st_value, raw: Thumb bit included), Size, Type, Bind, Vis, Ndx, Name.
     */
    public static List<String[]> readelfSymtab(Path file) throws IOException, InterruptedException {
        List<String[]> rows = new ArrayList<>();
        boolean symtab = false;
        for (String line : run("readelf", "-sW", file.toString()).split("\n")) {
            if (line.startsWith("Symbol table")) {
                symtab = line.contains("'.symtab'");
                continue;
            }
            String[] f = line.trim().split("\\s+");
            if (symtab && f.length == 8 && f[0].matches("\\d+:")) {
                rows.add(f);
            }
        }
        return rows;
    }

    /** Parses exports.tsv-style rows (name, kind, namespace, crc) from the fixture's Module.symvers. */
    public static List<String[]> symversRows() throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(x86_64().resolve("Module.symvers"))) {
            rows.add(line.split("\t", -1));
        }
        return rows;
    }
}
