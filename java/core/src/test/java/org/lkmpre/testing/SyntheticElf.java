package org.lkmpre.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small ELF files of any class and byte order for tests, where the host toolchain cannot
 * (big-endian, 32-bit). The layout is the simplest valid one: header, section contents in order,
 * then {@code .shstrtab}, then the section header table.
 */
public final class SyntheticElf {
    /** A section to write; index 0 (the null section) is added automatically. */
    public record Sec(String name, int type, long flags, long addr, byte[] data, int link, int info, long entsize) {
    }

    /** A symbol table entry. */
    public record Sym(String name, long value, int info, int shndx) {
    }

    private final boolean is64;
    private final boolean msb;
    private final List<Sec> sections = new ArrayList<>();

    public SyntheticElf(boolean is64, boolean msb) {
        this.is64 = is64;
        this.msb = msb;
    }

    public int wordSize() {
        return is64 ? 8 : 4;
    }

    public ByteOrder order() {
        return msb ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    /** Adds a section and returns its index. */
    public int add(Sec s) {
        sections.add(s);
        return sections.size();
    }

    /** Adds {@code .symtab} and {@code .strtab} for {@code syms} (entry 0 is added); returns the symtab index. */
    public int addSymbols(List<Sym> syms) {
        ByteArrayOutputStream strings = new ByteArrayOutputStream();
        strings.write(0);
        int entsize = is64 ? 24 : 16;
        ByteBuffer tab = ByteBuffer.allocate(entsize * (syms.size() + 1)).order(order());
        tab.position(entsize);
        for (Sym s : syms) {
            int name = strings.size();
            strings.writeBytes(s.name().getBytes(StandardCharsets.ISO_8859_1));
            strings.write(0);
            if (is64) {
                tab.putInt(name).put((byte) s.info()).put((byte) 0).putShort((short) s.shndx()).putLong(s.value()).putLong(0);
            } else {
                tab.putInt(name).putInt((int) s.value()).putInt(0).put((byte) s.info()).put((byte) 0).putShort((short) s.shndx());
            }
        }
        // sh_info: one past the last local symbol (locals come first).
        int firstGlobal = 1;
        while (firstGlobal <= syms.size() && syms.get(firstGlobal - 1).info() >> 4 == 0) {
            firstGlobal++;
        }
        int symtab = sections.size() + 1;
        add(new Sec(".symtab", 2, 0, 0, tab.array(), symtab + 1, firstGlobal, entsize));
        add(new Sec(".strtab", 3, 0, 0, strings.toByteArray(), 0, 0, 0));
        return symtab;
    }

    /** Encodes an address-sized value in this file's class and byte order. */
    public byte[] words(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * wordSize()).order(order());
        for (long v : values) {
            if (is64) {
                b.putLong(v);
            } else {
                b.putInt((int) v);
            }
        }
        return b.array();
    }

    /** Writes the file with {@code e_type} and {@code e_machine}. */
    public byte[] build(int type, int machine) {
        int ehsize = is64 ? 64 : 52;
        int shentsize = is64 ? 64 : 40;
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        names.write(0);
        int[] nameOff = new int[sections.size() + 1];
        for (int i = 0; i < sections.size(); i++) {
            nameOff[i] = names.size();
            names.writeBytes(sections.get(i).name().getBytes(StandardCharsets.ISO_8859_1));
            names.write(0);
        }
        nameOff[sections.size()] = names.size();
        names.writeBytes(".shstrtab\0".getBytes(StandardCharsets.ISO_8859_1));
        List<Sec> all = new ArrayList<>(sections);
        all.add(new Sec(".shstrtab", 3, 0, 0, names.toByteArray(), 0, 0, 0));
        long[] offsets = new long[all.size()];
        long pos = ehsize;
        for (int i = 0; i < all.size(); i++) {
            pos = (pos + 7) & ~7L;
            offsets[i] = pos;
            if (all.get(i).type() != 8) {
                pos += all.get(i).data().length;
            }
        }
        long shoff = (pos + 7) & ~7L;
        int shnum = all.size() + 1;
        ByteBuffer b = ByteBuffer.allocate((int) (shoff + (long) shnum * shentsize)).order(order());
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), (byte) (msb ? 2 : 1), 1});
        b.position(16);
        b.putShort((short) type).putShort((short) machine).putInt(1);
        if (is64) {
            b.putLong(0).putLong(0).putLong(shoff).putInt(0);
        } else {
            b.putInt(0).putInt(0).putInt((int) shoff).putInt(0);
        }
        b.putShort((short) ehsize).putShort((short) 0).putShort((short) 0).putShort((short) shentsize)
                .putShort((short) shnum).putShort((short) (shnum - 1));
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).type() != 8) {
                b.put((int) offsets[i], all.get(i).data());
            }
        }
        b.position((int) shoff + shentsize);
        for (int i = 0; i < all.size(); i++) {
            Sec s = all.get(i);
            long size = s.data().length;
            if (is64) {
                b.putInt(nameOff[i]).putInt(s.type()).putLong(s.flags()).putLong(s.addr()).putLong(offsets[i])
                        .putLong(size).putInt(s.link()).putInt(s.info()).putLong(8).putLong(s.entsize());
            } else {
                b.putInt(nameOff[i]).putInt(s.type()).putInt((int) s.flags()).putInt((int) s.addr())
                        .putInt((int) offsets[i]).putInt((int) size).putInt(s.link()).putInt(s.info()).putInt(8)
                        .putInt((int) s.entsize());
            }
        }
        return b.array();
    }
}
