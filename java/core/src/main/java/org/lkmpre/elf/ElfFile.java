package org.lkmpre.elf;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A validated, read-only view of an ELF32 or ELF64 file of either byte order: a relocatable
 * module ({@code .ko}) or an executable kernel ({@code vmlinux}).
 *
 * <p>{@link #parse} checks the header, every section header, the section name table and that
 * no two sections overlap each other or the headers; later reads are bounds-checked again.
 * Malformed input raises {@link org.lkmpre.InputFormatException} naming the file.
 */
public final class ElfFile {
    /** {@code ET_REL}: a relocatable object, such as a kernel module. */
    public static final int ET_REL = 1;
    /** {@code ET_EXEC}: an executable, such as vmlinux. */
    public static final int ET_EXEC = 2;

    private static final int SHN_LORESERVE = 0xff00;

    private final ElfBytes bytes;
    private final int type;
    private final int machine;
    private final long shoff;
    private final int shstrndx;
    private final List<Section> sections;

    private ElfFile(ElfBytes bytes, int type, int machine, long shoff, int shstrndx, List<Section> sections) {
        this.bytes = bytes;
        this.type = type;
        this.machine = machine;
        this.shoff = shoff;
        this.shstrndx = shstrndx;
        this.sections = sections;
    }

    /** @return true if {@code data} starts with the ELF magic number */
    public static boolean hasElfMagic(byte[] data) {
        return data.length >= 4 && data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F';
    }

    /**
     * Parses and validates {@code data}. The array is not copied and must not change afterwards.
     *
     * @param file name of the file, used in error messages
     * @param data the whole file
     * @return the validated view
     * @throws org.lkmpre.InputFormatException if the file is not a well-formed ELF file
     */
    public static ElfFile parse(String file, byte[] data) {
        return parse(file, data, data.length);
    }

    /**
     * Parses and validates the first {@code length} bytes of {@code data}, for a file whose ELF
     * image is followed by a trailer (such as an appended module signature).
     *
     * @param file   name of the file, used in error messages
     * @param data   the file's bytes; not copied, must not change afterwards
     * @param length how many leading bytes form the ELF image
     * @return the validated view
     * @throws org.lkmpre.InputFormatException if the image is not a well-formed ELF file
     */
    public static ElfFile parse(String file, byte[] data, int length) {
        if (length < 0 || length > data.length) {
            throw new IllegalArgumentException("length " + length + " outside 0.." + data.length);
        }
        ElfBytes probe = new ElfBytes(file, data, length, false, false);
        if (length < 16 || !hasElfMagic(data)) {
            throw probe.fail("not an ELF file (bad magic)");
        }
        int cls = data[4];
        int enc = data[5];
        if (cls != 1 && cls != 2) {
            throw probe.fail("unknown ELF class " + cls);
        }
        if (enc != 1 && enc != 2) {
            throw probe.fail("unknown ELF data encoding " + enc);
        }
        if (data[6] != 1) {
            throw probe.fail("unknown ELF version " + data[6]);
        }
        boolean is64 = cls == 2;
        ElfBytes b = new ElfBytes(file, data, length, enc == 2, is64);
        int ehsize = is64 ? 64 : 52;
        b.check(0, ehsize, "ELF header");
        int type = b.u16(16);
        int machine = b.u16(18);
        long shoff = b.word(is64 ? 40 : 32);
        int shentsize = b.u16(is64 ? 58 : 46);
        int shnum = b.u16(is64 ? 60 : 48);
        int shstrndx = b.u16(is64 ? 62 : 50);
        if (shnum == 0) {
            throw b.fail(shoff == 0 ? "no section header table" : "extended section numbering is not supported");
        }
        int wantShent = is64 ? 64 : 40;
        if (shentsize != wantShent) {
            throw b.fail("section header size " + shentsize + ", expected " + wantShent);
        }
        if (shoff < ehsize) {
            throw b.fail("section header table at offset " + shoff + " overlaps the ELF header");
        }
        b.check(shoff, (long) shnum * shentsize, "section header table");
        if (shstrndx == 0 || shstrndx >= shnum) {
            throw b.fail("section name table index " + shstrndx + " out of range (" + shnum + " sections)");
        }
        long[][] raw = new long[shnum][];
        for (int i = 0; i < shnum; i++) {
            raw[i] = readHeader(b, shoff + (long) i * shentsize);
        }
        long[] strtab = raw[shstrndx];
        if (strtab[1] != Section.SHT_STRTAB) {
            throw b.fail("section name table (section " + shstrndx + ") is not SHT_STRTAB");
        }
        b.check(strtab[4], strtab[5], "section name table");
        List<Section> sections = new ArrayList<>(shnum);
        for (int i = 0; i < shnum; i++) {
            long[] h = raw[i];
            if (h[0] >= strtab[5]) {
                throw b.fail("section " + i + " name offset " + h[0] + " outside the section name table");
            }
            String name = b.cstring(strtab[4] + h[0], strtab[4] + strtab[5], "name of section " + i);
            Section s = new Section(i, name, (int) h[1], h[2], h[3], h[4], h[5], (int) h[6], (int) h[7], h[8], h[9]);
            if (s.type() != Section.SHT_NOBITS) {
                b.check(s.offset(), s.size(), "section " + i + " (" + name + ")");
            }
            sections.add(s);
        }
        checkNoOverlap(b, sections, ehsize, shoff, (long) shnum * shentsize);
        return new ElfFile(b, type, machine, shoff, shstrndx, Collections.unmodifiableList(sections));
    }

    /** Reads one section header as {name, type, flags, addr, offset, size, link, info, addralign, entsize}. */
    private static long[] readHeader(ElfBytes b, long at) {
        if (b.is64()) {
            return new long[] {b.u32(at), b.u32(at + 4), b.u64(at + 8), b.u64(at + 16), b.u64(at + 24),
                b.u64(at + 32), b.u32(at + 40), b.u32(at + 44), b.u64(at + 48), b.u64(at + 56)};
        }
        return new long[] {b.u32(at), b.u32(at + 4), b.u32(at + 8), b.u32(at + 12), b.u32(at + 16),
            b.u32(at + 20), b.u32(at + 24), b.u32(at + 28), b.u32(at + 32), b.u32(at + 36)};
    }

    private static void checkNoOverlap(ElfBytes b, List<Section> sections, long ehsize, long shoff, long shsize) {
        // Ranges: the ELF header (index -2), the section header table (-1), every file-backed section.
        List<long[]> ranges = new ArrayList<>();
        ranges.add(new long[] {0, ehsize, -2});
        ranges.add(new long[] {shoff, shoff + shsize, -1});
        for (Section s : sections) {
            if (s.hasFileBytes()) {
                ranges.add(new long[] {s.offset(), s.offset() + s.size(), s.index()});
            }
        }
        ranges.sort(Comparator.<long[]>comparingLong(r -> r[0]).thenComparingLong(r -> r[1]));
        long[] prev = null;
        for (long[] r : ranges) {
            if (prev != null && r[0] < prev[1]) {
                throw b.fail(describe(prev[2], sections) + " overlaps " + describe(r[2], sections));
            }
            if (prev == null || r[1] > prev[1]) {
                prev = r;
            }
        }
    }

    private static String describe(long index, List<Section> sections) {
        if (index == -2) {
            return "the ELF header";
        }
        if (index == -1) {
            return "the section header table";
        }
        return "section " + index + " (" + sections.get((int) index).name() + ")";
    }

    /** @return the file name used in error messages */
    public String file() {
        return bytes.file();
    }

    /** @return true for ELFCLASS64 */
    public boolean is64() {
        return bytes.is64();
    }

    /** @return the byte order of multi-byte fields */
    public ByteOrder byteOrder() {
        return bytes.msb() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    /** @return {@code e_type} ({@link #ET_REL}, {@link #ET_EXEC}, ...) */
    public int type() {
        return type;
    }

    /** @return {@code e_machine} (62 x86_64, 40 arm, 42 SuperH, ...) */
    public int machine() {
        return machine;
    }

    /** @return the file length in bytes */
    public int length() {
        return bytes.length();
    }

    /** @return {@code e_shoff} */
    public long sectionHeaderOffset() {
        return shoff;
    }

    /** @return {@code e_shstrndx} */
    public int sectionNameTableIndex() {
        return shstrndx;
    }

    /** @return all section headers, in file order, index 0 included */
    public List<Section> sections() {
        return sections;
    }

    /** @return the first section called {@code name} */
    public Optional<Section> section(String name) {
        for (Section s : sections) {
            if (s.name().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** @return a copy of a section's bytes (empty for {@code SHT_NOBITS}) */
    public byte[] contents(Section s) {
        return s.type() == Section.SHT_NOBITS ? new byte[0] : bytes.slice(s.offset(), s.size(), "section " + s.name());
    }

    /** @return a writable copy of a section's bytes, read and written by run-time address */
    public SectionImage image(Section s) {
        byte[] copy = contents(s);
        return new SectionImage(s, new ElfBytes(file(), copy, copy.length, bytes.msb(), is64()));
    }

    /**
     * Reads a NUL-terminated string at run-time address {@code vaddr}, which must lie in section
     * {@code s} (a section with file bytes) and end inside it.
     */
    public String stringAt(Section s, long vaddr) {
        if (!s.hasFileBytes() || Long.compareUnsigned(vaddr - s.addr(), s.size()) >= 0) {
            throw bytes.fail("string address 0x" + Long.toHexString(vaddr) + " is outside section " + s.name());
        }
        long off = s.offset() + (vaddr - s.addr());
        return bytes.cstring(off, s.offset() + s.size(), "string at 0x" + Long.toHexString(vaddr));
    }

    /** Reads a NUL-terminated string at file offset {@code offset} that ends before {@code limit}. */
    public String stringAtOffset(long offset, long limit) {
        return bytes.cstring(offset, limit, "string");
    }

    /** Reads the byte at file offset {@code offset}. */
    public int u8(long offset) {
        return bytes.u8(offset);
    }

    /** Reads an unsigned 16-bit value at file offset {@code offset}. */
    public int u16(long offset) {
        return bytes.u16(offset);
    }

    /** Reads an unsigned 32-bit value at file offset {@code offset}. */
    public long u32(long offset) {
        return bytes.u32(offset);
    }

    /** Reads a signed 32-bit value at file offset {@code offset}. */
    public int s32(long offset) {
        return bytes.s32(offset);
    }

    /** Reads an address-sized value (4 or 8 bytes by class) at file offset {@code offset}. */
    public long word(long offset) {
        return bytes.word(offset);
    }

    /** @return the width of an address in this class: 4 or 8 */
    public int wordSize() {
        return bytes.wordSize();
    }

    /** @return the symbol table ({@code SHT_SYMTAB}), if any */
    public Optional<Section> symbolTable() {
        return sections.stream().filter(s -> s.type() == Section.SHT_SYMTAB).findFirst();
    }

    /**
     * Reads every entry of a symbol table, names resolved through its linked string table.
     *
     * @throws org.lkmpre.InputFormatException if the table or its string table is malformed
     */
    public List<Symbol> symbols(Section symtab) {
        return readSymbols(symtab, false);
    }

    /**
     * Reads only the entries a module asks the kernel for: {@code SHN_UNDEF}, index above 0,
     * with a name. Other entries' names are not decoded, which makes this much cheaper than
     * {@link #symbols} on large modules.
     *
     * @throws org.lkmpre.InputFormatException if the table or a name it reads is malformed
     */
    public List<Symbol> undefinedSymbols(Section symtab) {
        return readSymbols(symtab, true);
    }

    private List<Symbol> readSymbols(Section symtab, boolean undefinedOnly) {
        int entsize = is64() ? 24 : 16;
        if (symtab.entsize() != entsize) {
            throw bytes.fail("symbol table entry size " + symtab.entsize() + ", expected " + entsize);
        }
        if (symtab.size() % entsize != 0) {
            throw bytes.fail("symbol table size " + symtab.size() + " is not a multiple of " + entsize);
        }
        if (symtab.link() <= 0 || symtab.link() >= sections.size()) {
            throw bytes.fail("symbol table links to section " + symtab.link() + ", which does not exist");
        }
        Section strtab = sections.get(symtab.link());
        if (strtab.type() != Section.SHT_STRTAB) {
            throw bytes.fail("symbol string table (section " + strtab.index() + ") is not SHT_STRTAB");
        }
        int count = (int) (symtab.size() / entsize);
        List<Symbol> out = new ArrayList<>(undefinedOnly ? 64 : count);
        long strEnd = strtab.offset() + strtab.size();
        for (int i = 0; i < count; i++) {
            long at = symtab.offset() + (long) i * entsize;
            if (undefinedOnly && (i == 0 || bytes.u16(at + (is64() ? 6 : 14)) != Symbol.SHN_UNDEF || bytes.u32(at) == 0)) {
                continue;
            }
            long nameOff;
            long value;
            long size;
            int info;
            int other;
            int shndx;
            if (is64()) {
                nameOff = bytes.u32(at);
                info = bytes.u8(at + 4);
                other = bytes.u8(at + 5);
                shndx = bytes.u16(at + 6);
                value = bytes.u64(at + 8);
                size = bytes.u64(at + 16);
            } else {
                nameOff = bytes.u32(at);
                value = bytes.u32(at + 4);
                size = bytes.u32(at + 8);
                info = bytes.u8(at + 12);
                other = bytes.u8(at + 13);
                shndx = bytes.u16(at + 14);
            }
            if (nameOff >= strtab.size()) {
                throw bytes.fail("symbol " + i + " name offset " + nameOff + " outside its string table");
            }
            String name = bytes.cstring(strtab.offset() + nameOff, strEnd, "name of symbol " + i);
            if (undefinedOnly && name.isEmpty()) {
                continue;
            }
            if (shndx != Symbol.SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= sections.size()) {
                throw bytes.fail("symbol " + i + " (" + name + ") refers to section " + shndx + ", which does not exist");
            }
            out.add(new Symbol(i, name, value, size, info, other, shndx));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * Reads every entry of a relocation section ({@code SHT_REL} or {@code SHT_RELA}).
     *
     * @throws org.lkmpre.InputFormatException if its entry size or size does not fit the class
     */
    public List<Relocation> relocations(Section rel) {
        boolean rela = rel.type() == Relocation.SHT_RELA;
        if (!rela && rel.type() != Relocation.SHT_REL) {
            throw bytes.fail("section " + rel.name() + " is not a relocation section");
        }
        int word = wordSize();
        int entsize = (rela ? 3 : 2) * word;
        if (rel.entsize() != entsize || rel.size() % entsize != 0 || !rel.hasFileBytes() && rel.size() != 0) {
            throw bytes.fail("relocation section " + rel.name() + " has entry size " + rel.entsize() + " and size "
                    + rel.size() + ", expected entries of " + entsize + " bytes");
        }
        int count = (int) (rel.size() / entsize);
        List<Relocation> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long at = rel.offset() + (long) i * entsize;
            long info = bytes.word(at + word);
            int type = (int) (is64() ? info & 0xffff_ffffL : info & 0xff);
            int symbol = (int) (is64() ? info >>> 32 : info >>> 8);
            out.add(new Relocation(bytes.word(at), type, symbol,
                    rela ? OptionalLong.of(bytes.word(at + 2L * word)) : OptionalLong.empty()));
        }
        return Collections.unmodifiableList(out);
    }

    /** @return a patch builder for this file */
    public ElfPatch.Builder patch() {
        return new ElfPatch.Builder(this);
    }

    ElfBytes bytes() {
        return bytes;
    }
}
