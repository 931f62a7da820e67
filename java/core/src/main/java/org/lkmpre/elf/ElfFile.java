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
        ElfBytes b = ElfBytes.open(file, data, length);
        ElfLayout l = b.layout();
        b.check(0, l.ehsize(), "ELF header");
        int type = b.u16(l.eType());
        int machine = b.u16(l.eMachine());
        long shoff = b.word(l.eShoff());
        int shentsize = b.u16(l.eShentsize());
        int shnum = b.u16(l.eShnum());
        int shstrndx = b.u16(l.eShstrndx());
        if (shnum == 0) {
            throw b.fail(shoff == 0 ? "no section header table" : "extended section numbering is not supported");
        }
        if (shentsize != l.shentsize()) {
            throw b.fail("section header size " + shentsize + ", expected " + l.shentsize());
        }
        if (shoff < l.ehsize()) {
            throw b.fail("section header table at offset " + shoff + " overlaps the ELF header");
        }
        b.check(shoff, (long) shnum * shentsize, "section header table");
        if (shstrndx == 0 || shstrndx >= shnum) {
            throw b.fail("section name table index " + shstrndx + " out of range (" + shnum + " sections)");
        }
        SectionHeader[] raw = new SectionHeader[shnum];
        for (int i = 0; i < shnum; i++) {
            raw[i] = SectionHeader.read(b, shoff + (long) i * shentsize);
        }
        SectionHeader strtab = raw[shstrndx];
        if (strtab.type() != Section.SHT_STRTAB) {
            throw b.fail("section name table (section " + shstrndx + ") is not SHT_STRTAB");
        }
        b.check(strtab.offset(), strtab.size(), "section name table");
        List<Section> sections = new ArrayList<>(shnum);
        for (int i = 0; i < shnum; i++) {
            SectionHeader h = raw[i];
            if (h.name() >= strtab.size()) {
                throw b.fail("section " + i + " name offset " + h.name() + " outside the section name table");
            }
            String name = b.cstring(strtab.offset() + h.name(), strtab.offset() + strtab.size(), "name of section " + i);
            Section s = h.named(i, name);
            if (s.type() != Section.SHT_NOBITS) {
                b.check(s.offset(), s.size(), "section " + i + " (" + name + ")");
            }
            sections.add(s);
        }
        checkNoOverlap(b, sections, l.ehsize(), shoff, (long) shnum * shentsize);
        return new ElfFile(b, type, machine, shoff, shstrndx, Collections.unmodifiableList(sections));
    }

    /**
     * One section header as the file holds it, its name still an offset into {@code .shstrtab}.
     *
     * @param name {@code sh_name}; the other fields as in {@link Section}
     */
    private record SectionHeader(long name, int type, long flags, long addr, long offset, long size, int link, int info,
                                 long addralign, long entsize) {
        static SectionHeader read(ElfBytes b, long at) {
            ElfLayout l = b.layout();
            return new SectionHeader(b.u32(at + l.shName()), (int) b.u32(at + l.shType()), b.word(at + l.shFlags()),
                    b.word(at + l.shAddr()), b.word(at + l.shOffset()), b.word(at + l.shSize()),
                    (int) b.u32(at + l.shLink()), (int) b.u32(at + l.shInfo()), b.word(at + l.shAddralign()),
                    b.word(at + l.shEntsize()));
        }

        Section named(int index, String sectionName) {
            return new Section(index, sectionName, type, flags, addr, offset, size, link, info, addralign, entsize);
        }
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

    /** @return the field offsets and sizes of this file's class */
    public ElfLayout layout() {
        return bytes.layout();
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
        return new SectionImage(s, new ElfBytes(file(), copy, copy.length, bytes.msb(), layout()));
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
        ElfLayout l = layout();
        int entsize = l.symEntsize();
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
            int shndx = bytes.u16(at + l.stShndx());
            if (undefinedOnly && (i == 0 || shndx != Symbol.SHN_UNDEF)) {
                continue;
            }
            long nameOff = bytes.u32(at + l.stName());
            if (undefinedOnly && nameOff == 0) {
                continue;
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
            out.add(new Symbol(i, name, bytes.word(at + l.stValue()), bytes.word(at + l.stSize()),
                    bytes.u8(at + l.stInfo()), bytes.u8(at + l.stOther()), shndx));
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
        ElfLayout l = layout();
        int entsize = rela ? l.relaEntsize() : l.relEntsize();
        if (rel.entsize() != entsize || rel.size() % entsize != 0 || !rel.hasFileBytes() && rel.size() != 0) {
            throw bytes.fail("relocation section " + rel.name() + " has entry size " + rel.entsize() + " and size "
                    + rel.size() + ", expected entries of " + entsize + " bytes");
        }
        int count = (int) (rel.size() / entsize);
        List<Relocation> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long at = rel.offset() + (long) i * entsize;
            long info = bytes.word(at + l.rInfo());
            out.add(new Relocation(bytes.word(at + l.rOffset()), l.relType(info), l.relSymbol(info),
                    rela ? OptionalLong.of(bytes.word(at + l.rAddend())) : OptionalLong.empty()));
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
