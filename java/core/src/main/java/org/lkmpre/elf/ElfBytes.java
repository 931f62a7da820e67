package org.lkmpre.elf;

import java.nio.charset.StandardCharsets;
import org.lkmpre.InputFormatException;

/**
 * The one accessor layer over an ELF file's bytes: it knows the file's {@link ElfLayout} and byte
 * order and checks every read against the file's bounds with overflow-safe arithmetic. Nothing
 * else in lkmpre reads raw ELF bytes. Reads past the end raise {@link InputFormatException}
 * naming the file.
 */
public final class ElfBytes {
    private final String file;
    private final byte[] data;
    private final int length;
    private final boolean msb;
    private final ElfLayout layout;

    ElfBytes(String file, byte[] data, int length, boolean msb, ElfLayout layout) {
        this.file = file;
        this.data = data;
        this.length = length;
        this.msb = msb;
        this.layout = layout;
    }

    /**
     * Opens the first {@code length} bytes of {@code data} as an ELF file: checks the
     * identification bytes (magic, class, data encoding, version) and chooses the layout and
     * byte order they name. Nothing else is validated; {@link ElfFile#parse} does that.
     *
     * @param file   name of the file, used in error messages
     * @param data   the file's bytes; not copied
     * @param length how many leading bytes form the ELF image
     * @return the accessor
     * @throws InputFormatException if the identification bytes are not ELF's
     */
    public static ElfBytes open(String file, byte[] data, int length) {
        if (length < 0 || length > data.length) {
            throw new IllegalArgumentException("length " + length + " outside 0.." + data.length);
        }
        if (length < 16 || !ElfFile.hasElfMagic(data)) {
            throw new InputFormatException(file, "not an ELF file (bad magic)");
        }
        int cls = data[4];
        int enc = data[5];
        ElfLayout layout = ElfLayout.of(cls)
                .orElseThrow(() -> new InputFormatException(file, "unknown ELF class " + cls));
        if (enc != 1 && enc != 2) {
            throw new InputFormatException(file, "unknown ELF data encoding " + enc);
        }
        if (data[6] != 1) {
            throw new InputFormatException(file, "unknown ELF version " + data[6]);
        }
        return new ElfBytes(file, data, length, enc == 2, layout);
    }

    /**
     * An accessor for a big-endian structure that is not one of ELF's own (the {@code struct
     * module_signature} of an appended signature). Only the sized reads ({@link #u8} to
     * {@link #u64}) mean anything.
     *
     * @param file name of the file, used in error messages
     * @param data the bytes; not copied
     * @return the accessor
     */
    public static ElfBytes bigEndian(String file, byte[] data) {
        return new ElfBytes(file, data, data.length, true, ElfLayout.ELF64);
    }

    /**
     * An accessor for a little-endian structure that is not one of ELF's own (lkmpre's undo
     * record). Only the sized reads ({@link #u8} to {@link #u64}) mean anything.
     *
     * @param file name of the file, used in error messages
     * @param data the bytes; not copied
     * @return the accessor
     */
    public static ElfBytes littleEndian(String file, byte[] data) {
        return new ElfBytes(file, data, data.length, false, ElfLayout.ELF64);
    }

    /**
     * An accessor for other bytes laid out as this file is (a copy of part of it, or what a
     * writer made of it): the same layout and byte order, bounded by {@code other}'s length.
     *
     * @param otherFile name of the other bytes, used in error messages
     * @param other     the bytes; not copied
     * @return the accessor
     */
    public ElfBytes alike(String otherFile, byte[] other) {
        return new ElfBytes(otherFile, other, other.length, msb, layout);
    }

    String file() {
        return file;
    }

    /** @return how many bytes can be read */
    public int length() {
        return length;
    }

    boolean msb() {
        return msb;
    }

    /** @return the layout of the file's class */
    public ElfLayout layout() {
        return layout;
    }

    boolean is64() {
        return layout.is64();
    }

    /** Width in bytes of an address or {@code unsigned long} in this ELF class. */
    int wordSize() {
        return layout.wordSize();
    }

    /** Fails unless {@code [offset, offset + size)} lies inside the file. */
    void check(long offset, long size, String what) {
        if (offset < 0 || size < 0 || offset > length || size > length - offset) {
            throw fail(what + " at offset " + offset + " (size " + size + ") lies outside the file ("
                    + length + " bytes)");
        }
    }

    InputFormatException fail(String reason) {
        return new InputFormatException(file, reason);
    }

    /** @return the byte at {@code offset} */
    public int u8(long offset) {
        check(offset, 1, "byte");
        return data[(int) offset] & 0xff;
    }

    /** @return the unsigned 16-bit value at {@code offset} */
    public int u16(long offset) {
        check(offset, 2, "16-bit field");
        int o = (int) offset;
        int a = data[o] & 0xff;
        int b = data[o + 1] & 0xff;
        return msb ? (a << 8) | b : (b << 8) | a;
    }

    /** @return the unsigned 32-bit value at {@code offset} */
    public long u32(long offset) {
        check(offset, 4, "32-bit field");
        return rawU32((int) offset);
    }

    int s32(long offset) {
        return (int) u32(offset);
    }

    /** @return the 64-bit value at {@code offset} */
    public long u64(long offset) {
        check(offset, 8, "64-bit field");
        int o = (int) offset;
        long a = rawU32(o);
        long b = rawU32(o + 4);
        return msb ? (a << 32) | b : (b << 32) | a;
    }

    /** @return the address-sized field ({@code Elf_Addr}, {@code Elf_Off}, {@code unsigned long}) at {@code offset} */
    public long word(long offset) {
        return is64() ? u64(offset) : u32(offset);
    }

    /** Writes an address-sized field in this file's byte order (only ever into a copy: {@link SectionImage}). */
    void putWord(long offset, long value) {
        int size = wordSize();
        check(offset, size, "address-sized field");
        System.arraycopy(encode(value, size), 0, data, (int) offset, size);
    }

    private long rawU32(int o) {
        long a = data[o] & 0xff;
        long b = data[o + 1] & 0xff;
        long c = data[o + 2] & 0xff;
        long d = data[o + 3] & 0xff;
        return msb ? (a << 24) | (b << 16) | (c << 8) | d : (d << 24) | (c << 16) | (b << 8) | a;
    }

    /**
     * Reads a NUL-terminated string that must end before {@code limit}.
     */
    String cstring(long offset, long limit, String what) {
        check(offset, 0, what);
        long end = Math.min(limit, length);
        for (long i = offset; i < end; i++) {
            if (data[(int) i] == 0) {
                return new String(data, (int) offset, (int) (i - offset), StandardCharsets.ISO_8859_1);
            }
        }
        throw fail(what + " at offset " + offset + " is not NUL-terminated");
    }

    /** Copies {@code size} bytes at {@code offset}. */
    byte[] slice(long offset, long size, String what) {
        check(offset, size, what);
        byte[] out = new byte[(int) size];
        System.arraycopy(data, (int) offset, out, 0, (int) size);
        return out;
    }

    byte[] data() {
        return data;
    }

    /** Encodes a value of {@code size} bytes (2, 4 or 8) in this file's byte order. */
    byte[] encode(long value, int size) {
        byte[] out = new byte[size];
        for (int i = 0; i < size; i++) {
            int shift = 8 * (msb ? size - 1 - i : i);
            out[i] = (byte) (value >>> shift);
        }
        return out;
    }
}
