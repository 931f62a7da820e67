package org.lkmpre.elf;

import org.lkmpre.InputFormatException;

/**
 * The one accessor layer over an ELF file's bytes: it knows the class width and byte order and
 * checks every read against the file's bounds with overflow-safe arithmetic. Nothing else in
 * lkmpre reads raw ELF bytes.
 */
final class ElfBytes {
    private final String file;
    private final byte[] data;
    private final int length;
    private final boolean msb;
    private final boolean is64;

    ElfBytes(String file, byte[] data, int length, boolean msb, boolean is64) {
        this.file = file;
        this.data = data;
        this.length = length;
        this.msb = msb;
        this.is64 = is64;
    }

    String file() {
        return file;
    }

    int length() {
        return length;
    }

    boolean msb() {
        return msb;
    }

    boolean is64() {
        return is64;
    }

    /** Width in bytes of an address or {@code unsigned long} in this ELF class. */
    int wordSize() {
        return is64 ? 8 : 4;
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

    int u8(long offset) {
        check(offset, 1, "byte");
        return data[(int) offset] & 0xff;
    }

    int u16(long offset) {
        check(offset, 2, "16-bit field");
        int o = (int) offset;
        int a = data[o] & 0xff;
        int b = data[o + 1] & 0xff;
        return msb ? (a << 8) | b : (b << 8) | a;
    }

    long u32(long offset) {
        check(offset, 4, "32-bit field");
        return rawU32((int) offset);
    }

    int s32(long offset) {
        return (int) u32(offset);
    }

    long u64(long offset) {
        check(offset, 8, "64-bit field");
        int o = (int) offset;
        long a = rawU32(o);
        long b = rawU32(o + 4);
        return msb ? (a << 32) | b : (b << 32) | a;
    }

    /** Reads an address-sized field ({@code Elf_Addr}, {@code Elf_Off}, {@code unsigned long}). */
    long word(long offset) {
        return is64 ? u64(offset) : u32(offset);
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
                return new String(data, (int) offset, (int) (i - offset), java.nio.charset.StandardCharsets.ISO_8859_1);
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
