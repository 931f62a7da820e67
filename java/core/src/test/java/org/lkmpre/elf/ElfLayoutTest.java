package org.lkmpre.elf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.lkmpre.testing.Fixtures;
import org.lkmpre.testing.SyntheticElf;

/**
 * The two layouts against the ELF specification's field order and against readelf, an
 * independent reader, on the x86_64 fixture and on files of every class and byte order.
 */
class ElfLayoutTest {
    @TempDir
    Path tmp;

    /** {offset, width} of each field; together they must cover {@code [0, size)} exactly once. */
    private static void assertTiles(String what, int size, int[]... fields) {
        int[] owner = new int[size];
        Arrays.fill(owner, -1);
        for (int f = 0; f < fields.length; f++) {
            for (int i = fields[f][0]; i < fields[f][0] + fields[f][1]; i++) {
                assertTrue(i < size, what + ": field " + f + " runs past " + size + " bytes");
                assertEquals(-1, owner[i], what + ": fields " + owner[i] + " and " + f + " overlap at byte " + i);
                owner[i] = f;
            }
        }
        for (int i = 0; i < size; i++) {
            assertTrue(owner[i] >= 0, what + ": byte " + i + " belongs to no field");
        }
    }

    @ParameterizedTest(name = "ELF{0}")
    @ValueSource(ints = {32, 64})
    void fieldsFollowTheSpecification(int bits) {
        ElfLayout l = bits == 64 ? ElfLayout.ELF64 : ElfLayout.ELF32;
        int w = bits / 8;
        assertEquals(w, l.wordSize());
        assertEquals(bits == 64, l.is64());
        assertEquals(l, ElfLayout.of(l.elfClass()).orElseThrow());
        // Elf_Ehdr in the specification's order: e_ident[16], e_type, e_machine, e_version,
        // e_entry, e_phoff, e_shoff, e_flags, e_ehsize, e_phentsize, e_phnum, e_shentsize,
        // e_shnum, e_shstrndx.
        int[] widths = {16, 2, 2, 4, w, w, w, 4, 2, 2, 2, 2, 2, 2};
        int[] at = new int[widths.length + 1];
        for (int i = 0; i < widths.length; i++) {
            at[i + 1] = at[i] + widths[i];
        }
        assertEquals(List.of(at[1], at[2], at[6], at[11], at[12], at[13], at[14]),
                List.of(l.eType(), l.eMachine(), l.eShoff(), l.eShentsize(), l.eShnum(), l.eShstrndx(), l.ehsize()));
        assertTiles("Elf_Shdr", l.shentsize(), new int[] {l.shName(), 4}, new int[] {l.shType(), 4},
                new int[] {l.shFlags(), w}, new int[] {l.shAddr(), w}, new int[] {l.shOffset(), w},
                new int[] {l.shSize(), w}, new int[] {l.shLink(), 4}, new int[] {l.shInfo(), 4},
                new int[] {l.shAddralign(), w}, new int[] {l.shEntsize(), w});
        assertTiles("Elf_Sym", l.symEntsize(), new int[] {l.stName(), 4}, new int[] {l.stValue(), w},
                new int[] {l.stSize(), w}, new int[] {l.stInfo(), 1}, new int[] {l.stOther(), 1},
                new int[] {l.stShndx(), 2});
        assertTiles("Elf_Rel", l.relEntsize(), new int[] {l.rOffset(), w}, new int[] {l.rInfo(), w});
        assertTiles("Elf_Rela", l.relaEntsize(), new int[] {l.rOffset(), w}, new int[] {l.rInfo(), w},
                new int[] {l.rAddend(), w});
    }

    @Test
    void relocationInfoAndWordsFollowTheClass() {
        assertEquals(0x04, ElfLayout.ELF32.relType(0x1c04));
        assertEquals(0x1c, ElfLayout.ELF32.relSymbol(0x1c04));
        assertEquals(4, ElfLayout.ELF64.relType(0x0000_001c_0000_0004L));
        assertEquals(0x1c, ElfLayout.ELF64.relSymbol(0x0000_001c_0000_0004L));
        assertEquals(0x8123_4567L, ElfLayout.ELF32.toWord(0xffff_ffff_8123_4567L));
        assertEquals(0xffff_ffff_8123_4567L, ElfLayout.ELF64.toWord(0xffff_ffff_8123_4567L));
        assertTrue(ElfLayout.of(0).isEmpty());
        assertTrue(ElfLayout.of(3).isEmpty());
    }

    @Test
    void fixtureModuleReadsAsReadelfReadsIt() throws Exception {
        Path ko = Fixtures.module("fx_good");
        assertAgreesWithReadelf(ko, 3);
    }

    @ParameterizedTest(name = "ELF{0} msb={1}")
    @CsvSource({"32,false,40", "32,true,20", "64,false,62", "64,true,22"})
    void everyClassAndByteOrderReadsAsReadelfReadsIt(int bits, boolean msb, int machine) throws Exception {
        boolean is64 = bits == 64;
        SyntheticElf w = new SyntheticElf(is64, msb);
        int text = w.add(new SyntheticElf.Sec(".text", 1, 6, 0x1000, new byte[64], 0, 0, 0));
        int symtab = w.addSymbols(List.of(new SyntheticElf.Sym("local_fn", 0x1004, 0x02, text),
                new SyntheticElf.Sym("ext_fn", 0, 0x10, 0), new SyntheticElf.Sym("ext_data", 0x7fff_0123L, 0x21, 0xfff1)));
        long info = is64 ? (2L << 32) | 1 : (3 << 8) | 2;
        byte[] entries = is64 ? w.words(0x10, info, -4, 0x18, info + 1, 8) : w.words(0x10, info, 0x18, info + 1);
        w.add(new SyntheticElf.Sec(is64 ? ".rela.text" : ".rel.text", is64 ? Relocation.SHT_RELA : Relocation.SHT_REL,
                0x40, 0, entries, symtab, text, (is64 ? 3 : 2) * (bits / 8)));
        Path file = tmp.resolve("synthetic.o");
        Files.write(file, w.build(ElfFile.ET_REL, machine));
        assertAgreesWithReadelf(file, 2);
    }

    /** Header, section headers, symbols and relocations as read through the layout, against readelf. */
    private static void assertAgreesWithReadelf(Path file, int minSymbols) throws Exception {
        byte[] data = Files.readAllBytes(file);
        ElfBytes b = ElfBytes.open(file.toString(), data, data.length);
        ElfLayout l = b.layout();
        Map<String, String> header = readelfHeader(file);
        assertEquals(header.get("Start of section headers"), Long.toString(b.word(l.eShoff())));
        assertEquals(header.get("Size of section headers"), Integer.toString(b.u16(l.eShentsize())));
        assertEquals(header.get("Number of section headers"), Integer.toString(b.u16(l.eShnum())));
        assertEquals(header.get("Section header string table index"), Integer.toString(b.u16(l.eShstrndx())));
        assertEquals(header.get("Size of this header"), Integer.toString(l.ehsize()));
        assertEquals("REL", header.get("Type"));
        assertEquals(ElfFile.ET_REL, b.u16(l.eType()));

        ElfFile elf = ElfFile.parse(file.toString(), data);
        List<String> ours = new ArrayList<>();
        for (Section s : elf.sections()) {
            ours.add(String.join(" ", s.name(), Long.toHexString(s.addr()), Long.toHexString(s.offset()),
                    Long.toHexString(s.size()), Long.toHexString(s.entsize()), Integer.toString(s.link()),
                    Integer.toString(s.info()), Long.toString(s.addralign())));
        }
        assertEquals(readelfSections(file), ours);

        List<String[]> rows = Fixtures.readelfSymtab(file);
        assertTrue(rows.size() >= minSymbols, rows.size() + " named symbols");
        List<Symbol> symbols = elf.symbols(elf.symbolTable().orElseThrow());
        for (String[] row : rows) {
            Symbol s = symbols.get(Integer.parseInt(row[0].replace(":", "")));
            assertEquals(Long.parseUnsignedLong(row[1], 16), s.value(), row[7]);
            assertEquals(Long.decode(row[2]), s.size(), row[7]);
            assertEquals(row[3], List.of("NOTYPE", "OBJECT", "FUNC", "SECTION", "FILE").get(s.type()), row[7]);
            assertEquals(row[4], List.of("LOCAL", "GLOBAL", "WEAK").get(s.bind()), row[7]);
            assertEquals(row[6], switch (s.shndx()) {
                case Symbol.SHN_UNDEF -> "UND";
                case Symbol.SHN_ABS -> "ABS";
                default -> Integer.toString(s.shndx());
            }, row[7]);
            // readelf names a section symbol by its section; the symbol's own name is empty.
            assertEquals(s.type() == 3 ? elf.sections().get(s.shndx()).name() : s.name(), row[7]);
        }

        List<String> relocations = new ArrayList<>();
        for (Section s : elf.sections()) {
            if (s.type() == Relocation.SHT_REL || s.type() == Relocation.SHT_RELA) {
                for (Relocation r : elf.relocations(s)) {
                    long info = l.is64() ? ((long) r.symbol() << 32) | r.type() : ((long) r.symbol() << 8) | r.type();
                    relocations.add(Long.toHexString(r.offset()) + " " + Long.toHexString(info) + " "
                            + (r.addend().isPresent() ? Long.toString(r.addend().getAsLong()) : "-"));
                }
            }
        }
        assertEquals(readelfRelocations(file, l.is64()), relocations);
        assertTrue(relocations.size() >= 2, relocations.toString());
    }

    private static Map<String, String> readelfHeader(Path file) throws Exception {
        Map<String, String> out = new HashMap<>();
        for (String line : Fixtures.run("readelf", "-hW", file.toString()).split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                out.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim().split("\\s+")[0]);
            }
        }
        return out;
    }

    /** Name, address, offset, size, entry size (hex), link, info, alignment of every section. */
    private static List<String> readelfSections(Path file) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Fixtures.run("readelf", "-SW", file.toString()).split("\n")) {
            if (!line.matches("\\s*\\[\\s*\\d+\\].*")) {
                continue;
            }
            String[] f = line.substring(line.indexOf(']') + 1).trim().split("\\s+");
            if (f[0].equals("NULL")) { // section 0 has no name
                f = Stream.concat(Stream.of(""), Arrays.stream(f)).toArray(String[]::new);
            }
            int n = f.length;
            out.add(String.join(" ", f[0], hex(f[2]), hex(f[3]), hex(f[4]), hex(f[5]), f[n - 3], f[n - 2], f[n - 1]));
        }
        return out;
    }

    /** Offset and info (hex), and the addend (decimal; "-" for SHT_REL) of every relocation. */
    private static List<String> readelfRelocations(Path file, boolean is64) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Fixtures.run("readelf", "-rW", file.toString()).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 3 || !f[0].matches("[0-9a-f]{8,16}") || !f[1].matches("[0-9a-f]{8,16}")) {
                continue;
            }
            String addend = "-";
            int sign = Math.max(line.lastIndexOf(" + "), line.lastIndexOf(" - "));
            if (sign > 0) {
                long v = Long.parseUnsignedLong(line.substring(sign + 3).trim(), 16);
                addend = Long.toString(line.charAt(sign + 1) == '-' ? -v : v);
            }
            out.add(hex(f[0]) + " " + hex(f[1]) + " " + addend);
        }
        return out;
    }

    private static String hex(String digits) {
        return Long.toHexString(Long.parseUnsignedLong(digits, 16));
    }
}
