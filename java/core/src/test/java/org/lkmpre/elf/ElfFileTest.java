package org.lkmpre.elf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lkmpre.InputFormatException;
import org.lkmpre.testing.Fixtures;
import org.lkmpre.testing.SyntheticElf;

class ElfFileTest {
    @TempDir
    Path tmp;

    @Test
    void undefinedSymbolsMatchReadelf() throws Exception {
        Path ko = Fixtures.module("fx_good");
        ElfFile elf = ElfFile.parse(ko.toString(), Files.readAllBytes(ko));
        List<String> ours = elf.symbols(elf.symbolTable().orElseThrow()).stream()
                .filter(Symbol::isUndefinedReference).map(Symbol::name).sorted().toList();
        List<String> readelf = Fixtures.run("readelf", "-sW", ko.toString()).lines()
                .map(String::trim).map(l -> l.split("\\s+"))
                .filter(f -> f.length == 8 && f[6].equals("UND")).map(f -> f[7]).sorted().toList();
        assertEquals(readelf, ours);
        assertEquals(8, ours.size());
        assertEquals(ours, elf.undefinedSymbols(elf.symbolTable().orElseThrow()).stream().map(Symbol::name).sorted().toList());
        assertTrue(elf.is64());
        assertEquals(ElfFile.ET_REL, elf.type());
        assertEquals(62, elf.machine());
    }

    @ParameterizedTest(name = "ELF{0} msb={1}")
    @CsvSource({"32,false", "32,true", "64,false", "64,true"})
    void patchesEveryClassAndByteOrder(int bits, boolean msb) throws Exception {
        SyntheticElf w = new SyntheticElf(bits == 64, msb);
        w.add(new SyntheticElf.Sec(".text", 1, 6, 0, new byte[16], 0, 0, 0));
        w.addSymbols(List.of(new SyntheticElf.Sym("local_fn", 4, 0x02, 1),
                new SyntheticElf.Sym("ext_fn", 0, 0x10, 0), new SyntheticElf.Sym("ext_data", 0, 0x10, 0)));
        byte[] original = w.build(ElfFile.ET_REL, 42);
        ElfFile elf = ElfFile.parse("synthetic.ko", original);
        assertEquals(bits == 64, elf.is64());
        assertEquals(msb ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN, elf.byteOrder());
        Section symtab = elf.symbolTable().orElseThrow();
        List<Symbol> syms = elf.symbols(symtab);
        assertEquals(List.of("", "local_fn", "ext_fn", "ext_data"), syms.stream().map(Symbol::name).toList());
        long address = bits == 64 ? 0xffffffff81234568L : 0xc0123456L;
        ElfPatch patch = elf.patch().setSymbol(symtab, syms.get(2), address, Symbol.SHN_ABS)
                .addEmptySection(".preresolved").build(original.length);
        byte[] patched = patch.apply(original);

        ElfFile again = ElfFile.parse("patched.ko", patched);
        Symbol ext = again.symbols(again.symbolTable().orElseThrow()).get(2);
        assertEquals(address, ext.value());
        assertEquals(Symbol.SHN_ABS, ext.shndx());
        assertEquals(Symbol.SHN_UNDEF, again.symbols(again.symbolTable().orElseThrow()).get(3).shndx());
        Section marker = again.section(".preresolved").orElseThrow();
        assertEquals(0, marker.size());
        assertEquals(Section.SHT_PROGBITS, marker.type());
        assertEquals(0, marker.flags() & Section.SHF_ALLOC);
        assertEquals(elf.sections().size() + 1, again.sections().size());

        // Independent oracle: binutils reads the patched file without complaint.
        Path file = tmp.resolve("patched.ko");
        Files.write(file, patched);
        Process p = new ProcessBuilder("readelf", "-aW", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        assertFalse(out.contains("Error") || out.contains("Warning"), out);
        String hex = Long.toHexString(address);
        assertTrue(out.lines().anyMatch(l -> l.contains(hex) && l.contains(" ABS ") && l.endsWith("ext_fn")), out);
        assertTrue(out.contains(".preresolved"), out);
    }

    @Test
    void patchKeepsEveryOtherByte() throws Exception {
        Path ko = Fixtures.module("fx_good");
        byte[] original = Files.readAllBytes(ko);
        ElfFile elf = ElfFile.parse(ko.toString(), original);
        Section symtab = elf.symbolTable().orElseThrow();
        ElfPatch.Builder b = elf.patch();
        for (Symbol s : elf.symbols(symtab)) {
            if (s.isUndefinedReference()) {
                b.setSymbol(symtab, s, 0x1122334455667788L, Symbol.SHN_ABS);
            }
        }
        byte[] patched = b.addEmptySection(".preresolved").build(original.length).apply(original);
        assertTrue(patched.length > original.length);
        for (int i = 0; i < original.length; i++) {
            boolean inSymtab = i >= symtab.offset() && i < symtab.offset() + symtab.size();
            boolean inHeader = (i >= 40 && i < 48) || (i >= 60 && i < 62); // e_shoff, e_shnum
            if (!inSymtab && !inHeader) {
                assertEquals(original[i], patched[i], "byte " + i + " changed");
            }
        }
    }

    /** One way to break a valid module, and what the error must say. */
    private static void assertMalformed(String expect, Consumer<ByteBuffer> damage) throws IOException {
        byte[] data = Files.readAllBytes(Fixtures.module("fx_good"));
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        damage.accept(b);
        InputFormatException e = assertThrows(InputFormatException.class, () -> {
            ElfFile elf = ElfFile.parse("bad.ko", data);
            elf.symbols(elf.symbolTable().orElseThrow());
        });
        assertEquals("bad.ko", e.file());
        assertTrue(e.getMessage().startsWith("bad.ko: "), e.getMessage());
        assertTrue(e.reason().contains(expect), e.reason());
        assertFalse(e.getMessage().contains("\n"));
    }

    private static int shoff(ByteBuffer b) {
        return (int) b.getLong(40);
    }

    @Test
    void rejectsMalformedFiles() throws Exception {
        assertMalformed("bad magic", b -> b.put(1, (byte) 'X'));
        assertMalformed("unknown ELF class 3", b -> b.put(4, (byte) 3));
        assertMalformed("unknown ELF data encoding", b -> b.put(5, (byte) 9));
        assertMalformed("section header table", b -> b.putLong(40, b.capacity() - 100));
        assertMalformed("section header table", b -> b.putLong(40, Long.MAX_VALUE - 10));
        assertMalformed("section header table", b -> b.putShort(60, (short) 0xfeff));
        assertMalformed("section header size", b -> b.putShort(58, (short) 63));
        assertMalformed("section name table index", b -> b.putShort(62, (short) 0x7000));
        assertMalformed("lies outside the file", b -> b.putLong(shoff(b) + 64 + 24, 1L << 40));
        assertMalformed("lies outside the file", b -> b.putLong(shoff(b) + 64 + 32, 0x7fff_ffff_0000L));
        assertMalformed("overlaps", b -> {
            int s1 = shoff(b) + 64;
            int s2 = shoff(b) + 2 * 64;
            b.putLong(s2 + 24, b.getLong(s1 + 24));
            b.putLong(s2 + 32, Math.max(1, b.getLong(s2 + 32)));
            b.putInt(s2 + 4, 1);
        });
        assertMalformed("name offset", b -> b.putInt(shoff(b) + 64, 0x7fffffff));
    }

    @Test
    void rejectsTruncationAtEveryLength() throws Exception {
        byte[] data = Files.readAllBytes(Fixtures.module("fx_good"));
        for (int len = 0; len < data.length; len += 7) {
            byte[] cut = java.util.Arrays.copyOf(data, len);
            assertThrows(InputFormatException.class, () -> ElfFile.parse("cut.ko", cut), "length " + len);
        }
    }

    @Test
    void rejectsBadSymbolTables() throws Exception {
        SyntheticElf w = new SyntheticElf(true, false);
        w.add(new SyntheticElf.Sec(".symtab", 2, 0, 0, new byte[48], 9, 0, 24));
        ElfFile elf = ElfFile.parse("t.ko", w.build(ElfFile.ET_REL, 62));
        InputFormatException e = assertThrows(InputFormatException.class, () -> elf.symbols(elf.symbolTable().orElseThrow()));
        assertTrue(e.reason().contains("links to section 9"), e.reason());

        SyntheticElf w2 = new SyntheticElf(true, false);
        w2.add(new SyntheticElf.Sec(".symtab", 2, 0, 0, new byte[40], 0, 0, 20));
        ElfFile elf2 = ElfFile.parse("t.ko", w2.build(ElfFile.ET_REL, 62));
        e = assertThrows(InputFormatException.class, () -> elf2.symbols(elf2.symbolTable().orElseThrow()));
        assertTrue(e.reason().contains("entry size 20"), e.reason());
    }

    @Test
    void keepsImageBeforeTrailer() throws Exception {
        byte[] data = Files.readAllBytes(Fixtures.module("fx_signed"));
        byte[] good = Files.readAllBytes(Fixtures.module("fx_good"));
        ElfFile elf = ElfFile.parse("signed.ko", data, good.length);
        assertEquals(good.length, elf.length());
        ElfPatch p = elf.patch().build(good.length);
        assertArrayEquals(good, p.apply(data));
        assertThrows(IllegalArgumentException.class, () -> elf.patch().build(good.length - 1));
    }
}
