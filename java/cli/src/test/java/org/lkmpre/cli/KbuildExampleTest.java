package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lkmpre.module.KernelModule;
import org.lkmpre.module.ModuleCompression;

/**
 * docs/kbuild/lkmpre-modules-install.sh on a staged fixture tree as {@code make modules_install}
 * leaves it (a signed module, compressed ones, signing keys in the object tree), checked with
 * depmod, which lkmpre did not write.
 */
class KbuildExampleTest {
    private static final String RELEASE = "6.1.0-lkmpre-fixture";

    @TempDir
    Path tmp;

    private static String run(Path dir, List<String> cmd, int expect) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("LKMPRE", String.join(" ", CliRun.freshJvm()) + " org.lkmpre.cli.Main");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(expect, p.exitValue(), String.join(" ", cmd) + "\n" + out);
        return out;
    }

    @Test
    void preresolvesAnInstalledTreeAndDepmodAgrees() throws Exception {
        Path root = Path.of(System.getProperty("lkmpre.toolchains")).getParent();
        Path fx = CliRun.fixtures();
        Path staging = tmp.resolve("staging");
        CliRun.copyTree(fx.resolve("root"), staging);
        Path extra = Files.createDirectories(staging.resolve("lib/modules/" + RELEASE + "/kernel/extra"));
        Files.copy(fx.resolve("compressed/fx_good_xz.ko.xz"), extra.resolve("fx_good_xz.ko.xz"));
        Files.copy(fx.resolve("compressed/fx_good_zst.ko.zst"), extra.resolve("fx_good_zst.ko.zst"));
        Path obj = Files.createDirectories(tmp.resolve("obj/certs"));
        Files.copy(fx.resolve("boot/vmlinux"), tmp.resolve("obj/vmlinux"));
        run(obj, List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "signing_key.pem",
                "-outform", "DER", "-out", "signing_key.x509", "-subj", "/CN=kbuild test key/", "-days", "2"), 0);

        run(tmp, List.of("depmod", "-b", staging.toString(), RELEASE), 0);
        Path modulesDep = staging.resolve("lib/modules/" + RELEASE + "/modules.dep");
        byte[] depBefore = Files.readAllBytes(modulesDep);

        String out = run(tmp, List.of("sh", root.resolve("docs/kbuild/lkmpre-modules-install.sh").toString(),
                tmp.resolve("obj").toString(), staging.toString(), RELEASE), 0);
        assertTrue(out.contains("PRERESV drivers/fx/fx_signed.ko (8/8 *fully* preresolved)"), out);
        assertTrue(out.contains("PRERESV extra/fx_good_xz.ko.xz (8/8 *fully* preresolved)"), out);
        assertTrue(out.contains("REFUSED drivers/fx/fx_other_kernel.ko"), out);

        Path kernel = staging.resolve("lib/modules/" + RELEASE + "/kernel");
        KernelModule signed = KernelModule.parse("fx_signed.ko", Files.readAllBytes(kernel.resolve("drivers/fx/fx_signed.ko")));
        assertTrue(signed.isPreresolved() && signed.signature().isPresent(), "re-signed after preresolving");
        byte[] xz = Files.readAllBytes(extra.resolve("fx_good_xz.ko.xz"));
        ModuleCompression c = ModuleCompression.detect("x", xz);
        assertEquals(ModuleCompression.Format.XZ, c.format());
        assertTrue(KernelModule.parse("x", c.decompress("x", xz)).isPreresolved());

        run(tmp, List.of("depmod", "-b", staging.toString(), RELEASE), 0);
        assertArrayEquals(depBefore, Files.readAllBytes(modulesDep), "depmod sees the same dependencies");

        String again = run(tmp, List.of("sh", root.resolve("docs/kbuild/lkmpre-modules-install.sh").toString(),
                tmp.resolve("obj").toString(), staging.toString(), RELEASE), 0);
        assertTrue(again.contains("SKIPPED drivers/fx/fx_good.ko (already preresolved)"), again);
    }
}
