package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lkmpre.preresolve.PreresolveOptions;

/** Compressed modules (.ko.xz, .ko.zst, .ko.gz) are rewritten in the same format and settings. */
class CompressedModulesTest {
    @TempDir
    Path tmp;

    private static byte[] tool(Path in, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd));
        return out;
    }

    /** file, decompressor (an independent tool), header bytes that must survive: offset:length */
    @ParameterizedTest
    @CsvSource({"fx_good_xz.ko.xz, xz, 0:12", "fx_good_zst.ko.zst, zstd, 0:4", "fx_good_gz.ko.gz, gzip, 0:10",
        "fx_good_gz9.ko.gz, gzip, 0:10"})
    void sameFormatSameSettingsSameContent(String file, String tool, String header) throws Exception {
        Path fx = CliRun.fixtures();
        Path in = fx.resolve("compressed").resolve(file);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of("preresolve", "--kernel", fx.resolve("boot/vmlinux").toString(), "--out", out.toString(),
                in.toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertEquals("PRERESV " + in + " (8/8 *fully* preresolved)", r.lines().get(0));
        Path written = out.resolve(file);
        // The tool that made the input decompresses the output to the bytes of the plain module
        // preresolved the same way.
        byte[] unpacked = tool(written, tool, "-dc");
        Path plainOut = tmp.resolve("plain");
        CliRun p = CliRun.of("preresolve", "--kernel", fx.resolve("boot/vmlinux").toString(), "--out", plainOut.toString(),
                fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_good.ko").toString());
        assertEquals(0, p.status());
        assertArrayEquals(Files.readAllBytes(plainOut.resolve("fx_good.ko")), unpacked);
        // Format and recorded settings survive: xz stream header (check type), zstd magic,
        // gzip header (method, flags, zero mtime, XFL level, OS).
        String[] h = header.split(":");
        int at = Integer.parseInt(h[0]);
        int len = Integer.parseInt(h[1]);
        byte[] a = Files.readAllBytes(in);
        byte[] b = Files.readAllBytes(written);
        assertArrayEquals(java.util.Arrays.copyOfRange(a, at, at + len), java.util.Arrays.copyOfRange(b, at, at + len), file);
        if (tool.equals("xz")) {
            // xz reports the dictionary size kbuild asked for in the block header.
            String info = new String(tool(written, "xz", "--robot", "-lvv", written.toString()));
            String orig = new String(tool(in, "xz", "--robot", "-lvv", in.toString()));
            assertTrue(!dict(orig).equals("none"), orig);
            assertEquals(dict(orig), dict(info), info);
        }
    }

    private static String dict(String robotList) {
        return robotList.lines().filter(l -> l.startsWith("block")).map(l -> l.split("\t"))
                .map(f -> List.of(f).stream().filter(x -> x.contains("dict=")).findFirst().orElse(""))
                .findFirst().orElse("none");
    }

    @Test
    void conformReadsCompressedModules() throws Exception {
        Path fx = CliRun.fixtures();
        CliRun r = CliRun.of("conform", "--kernel", fx.resolve("boot/vmlinux").toString(), fx.resolve("compressed").toString());
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().startsWith("lkmpre conform: 4 modules"), r.out());
        assertEquals(List.of("4 modules, targets x86_64 (native): all identical"), TargetConformance.run(
                fx.resolve("boot/vmlinux"), PreresolveOptions.DEFAULTS, List.of(TargetConformance.built("x86_64")),
                List.of(fx.resolve("compressed"))));
    }

    @Test
    void corruptCompressedModuleFailsAlone() throws Exception {
        Path bad = tmp.resolve("in/bad.ko.xz");
        Files.createDirectories(bad.getParent());
        byte[] good = Files.readAllBytes(CliRun.fixtures().resolve("compressed/fx_good_xz.ko.xz"));
        Files.write(bad, java.util.Arrays.copyOf(good, good.length / 2));
        CliRun r = CliRun.of("preresolve", "--kernel", CliRun.fixtures().resolve("boot/vmlinux").toString(),
                tmp.resolve("in").toString());
        assertEquals(1, r.status());
        assertTrue(r.lines().get(0).startsWith("FAILED  bad.ko.xz (xz data does not decompress"), r.out());
        assertArrayEquals(java.util.Arrays.copyOf(good, good.length / 2), Files.readAllBytes(bad));
    }
}
