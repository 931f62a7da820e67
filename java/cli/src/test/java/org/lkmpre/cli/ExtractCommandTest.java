package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExtractCommandTest {
    @TempDir
    Path tmp;

    @Test
    void extractsTheVmlinuxTheImageWasMadeFrom() throws Exception {
        Path out = tmp.resolve("vmlinux");
        CliRun r = CliRun.of("extract", "--kernel", CliRun.fixtures().resolve("vmlinuz/vmlinuz.zst").toString(), "-o", out.toString());
        assertEquals(0, r.status(), r.err());
        assertArrayEquals(Files.readAllBytes(CliRun.fixtures().resolve("boot/vmlinux")), Files.readAllBytes(out));
    }

    @Test
    void garbageImageFailsWithoutOutput() throws Exception {
        Path junk = tmp.resolve("junk");
        Files.write(junk, new byte[4096]);
        Path out = tmp.resolve("vmlinux");
        CliRun r = CliRun.of("extract", "--kernel", junk.toString(), "-o", out.toString());
        assertEquals(2, r.status());
        assertEquals("lkmpre: error: " + junk + ": no compressed vmlinux payload found (no gzip, xz, zstd, lzma, lz4 or bzip2 stream)",
                r.err().strip());
        assertFalse(Files.exists(out));
    }
}
