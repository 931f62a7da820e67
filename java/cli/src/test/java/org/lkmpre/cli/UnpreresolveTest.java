package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** unpreresolve gives back the original bytes: every target, both byte orders, compressed too. */
class UnpreresolveTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "arm", "sh4", "sh4eb"})
    void roundTripRestoresEveryByte(String target) throws Exception {
        Path t = CliRun.fixtures().resolveSibling(target);
        Path tree = t.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel");
        Path once = tmp.resolve("preresolved");
        Path back = tmp.resolve("restored");
        CliRun.of("preresolve", "--kernel", t.resolve("boot/vmlinux").toString(), "--strip-signature", "-q",
                "--out", once.toString(), tree.toString());
        CliRun r = CliRun.of("unpreresolve", "--out", back.toString(), once.toString());
        assertEquals(0, r.status(), r.out());
        assertTrue(r.lines().contains("SKIPPED drivers/fx/fx_already.ko (not preresolved by lkmpre)"), r.out());
        Map<String, String> original = new TreeMap<>(CliRun.digests(tree));
        Map<String, String> restored = CliRun.digests(back);
        // The signed module comes back without its signature: as fx_good, the same module unsigned.
        assertEquals(original.get("drivers/fx/fx_good.ko"), restored.remove("drivers/fx/fx_signed.ko"));
        original.remove("drivers/fx/fx_signed.ko");
        original.remove("drivers/fx/fx_already.ko");
        original.remove("drivers/fx/fx_other_kernel.ko");
        assertEquals(original, restored);
    }

    @Test
    void compressedModulesComeBackCompressed() throws Exception {
        Path fx = CliRun.fixtures();
        Path in = fx.resolve("compressed/fx_good_xz.ko.xz");
        Path once = tmp.resolve("once");
        CliRun.of("preresolve", "--kernel", fx.resolve("boot/vmlinux").toString(), "--out", once.toString(), in.toString());
        assertEquals(0, CliRun.of("unpreresolve", once.resolve("fx_good_xz.ko.xz").toString()).status());
        Process p = new ProcessBuilder("xz", "-dc", once.resolve("fx_good_xz.ko.xz").toString()).start();
        byte[] plain = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertArrayEquals(Files.readAllBytes(fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_good.ko")),
                plain);
    }

    @Test
    void damagedUndoRecordFailsCleanly() throws Exception {
        Path fx = CliRun.fixtures();
        Path once = tmp.resolve("once");
        CliRun.of("preresolve", "--kernel", fx.resolve("boot/vmlinux").toString(), "--out", once.toString(),
                fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_good.ko").toString());
        Path ko = once.resolve("fx_good.ko");
        byte[] data = Files.readAllBytes(ko);
        String text = new String(data, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = text.indexOf("LKMPUNDO");
        data[at + 16] = (byte) 0xff; // image length far beyond the file
        data[at + 23] = (byte) 0x7f;
        Files.write(ko, data);
        CliRun r = CliRun.of("unpreresolve", ko.toString());
        assertEquals(1, r.status());
        assertTrue(r.out().contains("FAILED  " + ko + " (.lkmpre.undo describes an image that is not in the file)"), r.out());
        assertArrayEquals(data, Files.readAllBytes(ko), "a failed restore leaves the file as it was");
    }
}
