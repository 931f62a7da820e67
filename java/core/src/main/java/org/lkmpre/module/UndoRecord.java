package org.lkmpre.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.lkmpre.InputFormatException;

/**
 * What {@code lkmpre unpreresolve} needs to restore a module: the length of the original ELF
 * image, its section header table's offset and count, and the old value and section index of
 * every symbol made {@code SHN_ABS}. Stored in the section {@code .lkmpre.undo}, little-endian:
 * "LKMPUNDO", u32 version 1, u32 count, u64 image length, u64 e_shoff, u32 e_shnum, u32 0, then
 * per symbol u32 index, u16 st_shndx, u16 0, u64 st_value.
 *
 * @param imageLength the original image's length (before the grown name and header tables)
 * @param shoff       the original {@code e_shoff}
 * @param shnum       the original {@code e_shnum}
 * @param symbols     the patched symbols' original fields
 */
public record UndoRecord(long imageLength, long shoff, int shnum, List<Entry> symbols) {
    /** Name of the section that holds the record. */
    public static final String SECTION = ".lkmpre.undo";
    private static final byte[] MAGIC = {'L', 'K', 'M', 'P', 'U', 'N', 'D', 'O'};
    private static final int HEADER = 40;
    private static final int ENTRY = 16;

    /**
     * One symbol's original fields.
     *
     * @param index the symbol's index in {@code .symtab}
     * @param shndx its original {@code st_shndx}
     * @param value its original {@code st_value}
     */
    public record Entry(int index, int shndx, long value) {
    }

    /** Copies the list. */
    public UndoRecord {
        symbols = List.copyOf(symbols);
    }

    /** @return the record's bytes */
    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(HEADER + ENTRY * symbols.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(1).putInt(symbols.size()).putLong(imageLength).putLong(shoff).putInt(shnum).putInt(0);
        for (Entry e : symbols) {
            b.putInt(e.index()).putShort((short) e.shndx()).putShort((short) 0).putLong(e.value());
        }
        return b.array();
    }

    /**
     * @param data   bytes
     * @param offset where to look, with at least 8 bytes after it
     * @return true if a record's magic lies at {@code offset}
     */
    public static boolean startsAt(byte[] data, int offset) {
        return Arrays.equals(data, offset, offset + MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    /**
     * Reads a record.
     *
     * @param file name for messages
     * @param data the section's bytes
     * @return the record
     * @throws InputFormatException if the bytes are not a record
     */
    public static UndoRecord decode(String file, byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (data.length < HEADER || !startsAt(data, 0) || b.getInt(8) != 1) {
            throw new InputFormatException(file, SECTION + " is not an lkmpre undo record (version 1)");
        }
        int count = b.getInt(12);
        if (count < 0 || (long) count * ENTRY != data.length - HEADER) {
            throw new InputFormatException(file, SECTION + " holds " + (data.length - HEADER) + " bytes for "
                    + Integer.toUnsignedString(count) + " symbols");
        }
        List<Entry> symbols = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int at = HEADER + ENTRY * i;
            symbols.add(new Entry(b.getInt(at), b.getShort(at + 4) & 0xffff, b.getLong(at + 8)));
        }
        return new UndoRecord(b.getLong(16), b.getLong(24), b.getInt(32), symbols);
    }
}
