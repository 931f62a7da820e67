package org.lkmpre.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfBytes;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.ElfLayout;
import org.lkmpre.elf.ElfPatch;
import org.lkmpre.elf.Section;
import org.lkmpre.elf.Symbol;

/**
 * What {@code lkmpre unpreresolve} needs to restore a module: the length of the original ELF
 * image, its section header table's offset and count, and the old value and section index of
 * every symbol made {@code SHN_ABS}. Stored in the section {@code .lkmpre.undo}, little-endian:
 * "LKMPUNDO", u32 version 1, u32 count, u64 image length, u64 e_shoff, u32 e_shnum, u32 0, then
 * per symbol u32 index, u16 st_shndx, u16 0, u64 st_value. The C core writes the same bytes
 * (native/src/module.c) and lkmpre-tree reads them (native/tool/tree.c).
 *
 * <p>This class is the one place that knows the record: it writes it ({@link #encode}), reads it
 * ({@link #decode}, {@link #find}), applies it ({@link #restore}), and recognizes the two states
 * a killed in-place patch leaves ({@link #staleTail}, {@link #interrupted}; the protocol is in
 * docs/native.md).
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
    private static final int VERSION = 1;
    /** No ELF image is shorter (an ELF64 header); a record naming a shorter one is not lkmpre's. */
    private static final int MIN_IMAGE = 64;
    // The header's fields, after the 8-byte magic; bytes 36 to 39 are padding (0).
    private static final int VERSION_AT = 8;
    private static final int COUNT_AT = 12;
    private static final int IMAGE_LENGTH_AT = 16;
    private static final int SHOFF_AT = 24;
    private static final int SHNUM_AT = 32;
    /** The header's size: the first entry starts here. */
    private static final int HEADER = 40;
    // One entry's fields after its u32 symbol index; bytes 6 and 7 are padding (0), so that
    // st_value is 8-aligned.
    private static final int SHNDX_AT = 4;
    private static final int VALUE_AT = 8;
    /** One entry's size. */
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
        b.put(0, MAGIC).putInt(VERSION_AT, VERSION).putInt(COUNT_AT, symbols.size())
                .putLong(IMAGE_LENGTH_AT, imageLength).putLong(SHOFF_AT, shoff).putInt(SHNUM_AT, shnum);
        for (int i = 0; i < symbols.size(); i++) {
            Entry e = symbols.get(i);
            int at = HEADER + ENTRY * i;
            b.putInt(at, e.index()).putShort(at + SHNDX_AT, (short) e.shndx()).putLong(at + VALUE_AT, e.value());
        }
        return b.array();
    }

    private static boolean startsAt(byte[] data, int offset) {
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
        ElfBytes b = ElfBytes.littleEndian(file, data);
        if (data.length < HEADER || !startsAt(data, 0) || b.u32(VERSION_AT) != VERSION) {
            throw new InputFormatException(file, SECTION + " is not an lkmpre undo record (version 1)");
        }
        long count = b.u32(COUNT_AT);
        if (count * ENTRY != data.length - HEADER) {
            throw new InputFormatException(file, SECTION + " holds " + (data.length - HEADER) + " bytes for "
                    + count + " symbols");
        }
        List<Entry> symbols = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            int at = HEADER + ENTRY * i;
            symbols.add(new Entry((int) b.u32(at), b.u16(at + SHNDX_AT), b.u64(at + VALUE_AT)));
        }
        return new UndoRecord(b.u64(IMAGE_LENGTH_AT), b.u64(SHOFF_AT), (int) b.u32(SHNUM_AT), symbols);
    }

    /**
     * Reads the record of a module that carries one.
     *
     * @param elf the module's ELF image
     * @return its record, or empty if it has no {@value #SECTION} section
     * @throws InputFormatException if the section is not a record
     */
    public static Optional<UndoRecord> find(ElfFile elf) {
        return elf.section(SECTION).map(s -> decode(elf.file(), elf.contents(s)));
    }

    /**
     * Builds the patch that gives back the original image: every listed symbol's fields and the
     * original section header table restored, the grown tables cut off.
     *
     * @param elf the module's ELF image, which holds this record
     * @return the patch
     * @throws InputFormatException if the record does not describe an image within {@code elf}
     */
    public ElfPatch restore(ElfFile elf) {
        if (imageLength > elf.length() || imageLength < 0 || shoff < 0
                || shoff + (long) shnum * elf.layout().shentsize() > imageLength) {
            throw new InputFormatException(elf.file(), SECTION + " describes an image that is not in the file");
        }
        Section symtab = elf.symbolTable().orElseThrow();
        if (symtab.offset() + symtab.size() > imageLength) {
            throw new InputFormatException(elf.file(), "the symbol table lies outside the original image");
        }
        ElfPatch.Builder patch = elf.patch().setSectionHeaderTable(shoff, shnum);
        for (Entry e : symbols) {
            patch.setSymbol(symtab, e.index(), e.value(), e.shndx());
        }
        return patch.buildTruncated((int) imageLength);
    }

    /**
     * Whether a marked module was left by an in-place patch killed while it wrote the symbol
     * table (step 4): the first listed symbol that is not {@code SHN_ABS} comes before any entry
     * outside the symbol table.
     *
     * @param elf the module's ELF image, which holds this record
     * @return true if the write was interrupted
     */
    public boolean interrupted(ElfFile elf) {
        Optional<Section> symtab = elf.symbolTable();
        if (symtab.isEmpty()) {
            return false;
        }
        ElfLayout l = elf.layout();
        for (Entry e : symbols) {
            if (e.index() < 0 || (long) e.index() * l.symEntsize() >= symtab.get().size()) {
                return false;
            }
            if (elf.u16(symtab.get().offset() + (long) e.index() * l.symEntsize() + l.stShndx()) != Symbol.SHN_ABS) {
                return true;
            }
        }
        return false;
    }

    /**
     * Recognizes what an in-place patch killed between steps 2 and 3 leaves: an unmarked module
     * followed by a whole tail that nothing references, whose last section header names an undo
     * record that names this module's section header table. Never throws: any other bytes, a
     * hostile file included, are simply not a stale tail.
     *
     * @param data the whole file
     * @return the length of the original image before the tail, or empty
     */
    public static OptionalInt staleTail(byte[] data) {
        return staleTail(data, data.length);
    }

    /**
     * {@link #staleTail(byte[])} of the file in the first {@code length} bytes of {@code data}.
     *
     * @param data   holds the file
     * @param length the file's length
     * @return the length of the original image before the tail, or empty
     */
    public static OptionalInt staleTail(byte[] data, int length) {
        if (length < MIN_IMAGE) {
            return OptionalInt.empty();
        }
        try {
            ElfBytes b = ElfBytes.open("", data, length);
            ElfLayout l = b.layout();
            long h = length - l.shentsize();
            long at = b.word(h + l.shOffset());
            long size = b.word(h + l.shSize());
            if (b.u32(h + l.shType()) != Section.SHT_PROGBITS || size < HEADER || at < 0 || at > length
                    || size > length - at || !startsAt(data, (int) at)) {
                return OptionalInt.empty(); // the common case, decided without copying anything
            }
            UndoRecord undo = decode("", Arrays.copyOfRange(data, (int) at, (int) (at + size)));
            return undo.imageLength() >= MIN_IMAGE && undo.imageLength() <= at && undo.shoff() == b.word(l.eShoff())
                    && undo.shnum() == b.u16(l.eShnum()) ? OptionalInt.of((int) undo.imageLength()) : OptionalInt.empty();
        } catch (InputFormatException e) {
            return OptionalInt.empty();
        }
    }
}
