package org.lkmpre.module;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lkmpre.InputFormatException;

class ModuleCompressionTest {
    /** A module that decompresses past the cap is refused as it streams, not after. */
    @ParameterizedTest
    @EnumSource(value = ModuleCompression.Format.class, names = {"XZ", "ZSTD", "GZIP"})
    void decompressionBombsStopAtTheCap(ModuleCompression.Format format) {
        byte[] bomb = new ModuleCompression(format, format == ModuleCompression.Format.GZIP ? 9 : 3,
                format == ModuleCompression.Format.XZ ? 4 : -1, format == ModuleCompression.Format.XZ ? 1 << 20 : 0)
                .compress(new byte[64 << 20]);
        assertTrue(bomb.length < 128 << 10, format + " bomb is " + bomb.length + " bytes");
        ModuleCompression detected = ModuleCompression.detect("bomb.ko", bomb);
        assertEquals(format, detected.format());
        InputFormatException e = assertThrows(InputFormatException.class, () -> detected.decompress("bomb.ko", bomb, 1 << 20));
        assertEquals("bomb.ko: decompressed module exceeds the limit of 1048576 bytes", e.getMessage());
        assertEquals(64 << 20, detected.decompress("bomb.ko", bomb, 64 << 20).length);
    }
}
