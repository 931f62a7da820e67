package org.lkmpre.module;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lkmpre.InputFormatException;

/**
 * The record's bytes, spelled out: the C core writes and lkmpre-tree reads the same ones, so a
 * change here is a format change. (Restoring and the killed-write checks are tested on real
 * modules in InPlacePatchTest and the CLI's UnpreresolveTest.)
 */
class UndoRecordTest {
    private static final UndoRecord RECORD = new UndoRecord(0xe48, 0xd48, 15,
            List.of(new UndoRecord.Entry(21, 0, 0), new UndoRecord.Entry(0x1234, 0xfff1, 0xffffffff81234567L)));
    private static final String BYTES = "4c4b4d50554e444f" + "01000000" + "02000000" + "480e000000000000"
            + "480d000000000000" + "0f000000" + "00000000"
            + "15000000" + "0000" + "0000" + "0000000000000000"
            + "34120000" + "f1ff" + "0000" + "67452381ffffffff";

    @Test
    void encodesTheDocumentedLayout() {
        assertEquals(BYTES, HexFormat.of().formatHex(RECORD.encode()));
    }

    @Test
    void decodesWhatItEncodes() {
        assertEquals(RECORD, UndoRecord.decode("m.ko", HexFormat.of().parseHex(BYTES)));
        UndoRecord empty = new UndoRecord(64, 0, 1, List.of());
        assertEquals(empty, UndoRecord.decode("m.ko", empty.encode()));
    }

    @Test
    void refusesWhatIsNotARecord() {
        byte[] good = RECORD.encode();
        byte[] version = good.clone();
        version[8] = 2;
        byte[] magic = good.clone();
        magic[0] = 'l';
        byte[] count = good.clone();
        count[12] = 3;
        for (byte[] bad : List.of(version, magic, Arrays.copyOf(good, 39), Arrays.copyOf(good, 50), count)) {
            InputFormatException e = assertThrows(InputFormatException.class, () -> UndoRecord.decode("m.ko", bad));
            assertTrue(e.reason().startsWith(UndoRecord.SECTION), e.reason());
        }
        assertArrayEquals(good, RECORD.encode(), "encode is repeatable");
    }
}
