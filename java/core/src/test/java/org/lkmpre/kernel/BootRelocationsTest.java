package org.lkmpre.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Relocation;
import org.lkmpre.elf.Section;
import org.lkmpre.testing.Fixtures;

/**
 * Relocatable kernels: export tables completed at boot by dynamic relocations (fixtures/build.sh
 * links the fixture kernel with ld -shared for every target: x86_64 and sh4/sh4eb RELA, arm REL;
 * RELATIVE and absolute-against-symbol relocations), and the address guard.
 */
class BootRelocationsTest {
    private static Path dir(String target) {
        return Fixtures.x86_64().resolveSibling(target);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "arm", "sh4", "sh4eb"})
    void relocatedExportsAreTheSymbolTableValues(String target) throws Exception {
        Path relocatable = dir(target).resolve("boot/vmlinux-relocatable");
        String relocs = Fixtures.run("readelf", "-rW", relocatable.toString());
        assertTrue(relocs.contains("_RELATIVE"), "the fixture has RELATIVE relocations");
        assertTrue(relocs.matches("(?s).*R_\\w+_(64|ABS32|DIR32) .*"), "and absolute ones against symbols:\n" + relocs);

        KernelSymbols plain = new Vmlinux(dir(target).resolve("boot/vmlinux")).read();
        KernelSymbols k = new Vmlinux(relocatable).read();
        Map<String, Long> symtab = new HashMap<>();
        Fixtures.readelfSymtab(relocatable).forEach(f -> symtab.put(f[7], Long.parseUnsignedLong(f[1], 16)));
        assertEquals(10, k.exports().size());
        for (ExportedSymbol x : k.exports()) {
            assertEquals(symtab.get(x.name()), x.address(), x.name());
            ExportedSymbol same = plain.find(x.name()).orElseThrow();
            assertEquals(List.of(same.kind(), same.namespace(), same.crc()), List.of(x.kind(), x.namespace(), x.crc()));
            assertFalse(x.outsideKernel(), x.name());
        }
    }

    /** RELA: the value is the addend; what the place holds does not count (arm64 leaves it 0). */
    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "sh4eb"})
    void relaAddendsCountNotThePlaces(String target) throws Exception {
        Path file = dir(target).resolve("boot/vmlinux-relocatable");
        byte[] data = Files.readAllBytes(file);
        ElfFile elf = ElfFile.parse(file.toString(), data);
        Section rela = elf.section(".rela.dyn").orElseThrow();
        int zeroed = 0;
        for (Relocation r : elf.relocations(rela)) {
            for (Section s : elf.sections()) {
                if (s.name().startsWith("__ksymtab") && Long.compareUnsigned(r.offset() - s.addr(), s.size()) < 0) {
                    long at = s.offset() + (r.offset() - s.addr());
                    for (int i = 0; i < elf.wordSize(); i++) {
                        data[(int) at + i] = 0;
                    }
                    zeroed++;
                }
            }
        }
        assertTrue(zeroed >= 20, zeroed + " places");
        assertEquals(describe(new Vmlinux(file).read()), describe(Vmlinux.parse("zeroed places", data)));
    }

    /** A copy of the x86_64 relocatable kernel to damage, with its parsed view and .rela.dyn. */
    private record Copy(byte[] data, ElfFile elf, Section rela) {
        static Copy of() throws Exception {
            Path file = dir("x86_64").resolve("boot/vmlinux-relocatable");
            byte[] data = Files.readAllBytes(file);
            ElfFile elf = ElfFile.parse(file.toString(), data);
            return new Copy(data, elf, elf.section(".rela.dyn").orElseThrow());
        }
    }

    /** Without its relocations the kernel's absolute entries hold 0: the guard marks every one. */
    @Test
    void unappliedRelocationsAreCaughtByTheGuard() throws Exception {
        Copy copy = Copy.of();
        byte[] data = copy.data();
        // sh_flags of .rela.dyn (ELF64: 8 bytes at 8): no longer SHF_ALLOC, so not a boot relocation.
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN)
                .putLong((int) (copy.elf().sectionHeaderOffset() + copy.rela().index() * 64L + 8), 0);
        KernelSymbols k = Vmlinux.parse("unrelocated", data);
        Set<String> outside = k.exports().stream().filter(ExportedSymbol::outsideKernel).map(ExportedSymbol::name)
                .collect(Collectors.toSet());
        // The default-visibility exports are absolute relocations against symbols: 0 in the file.
        assertEquals(Set.of("fx_printk", "fx_kmalloc", "fx_kfree", "fx_jiffies", "fx_usb_thing", "fx_weak_target",
                "fx_cpu_number"), outside);
        outside.forEach(name -> assertEquals(0, k.find(name).orElseThrow().address()));
    }

    @Test
    void anUnknownRelocationTypeMakesTheKernelUnusable() throws Exception {
        Copy copy = Copy.of();
        byte[] data = copy.data();
        // r_info of the first entry: type R_X86_64_PC32 (2), which no boot code applies to a table.
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putInt((int) copy.rela().offset() + 8, 2);
        InputFormatException e = assertThrows(InputFormatException.class, () -> Vmlinux.parse("pc32", data));
        assertTrue(e.getMessage().startsWith("pc32: dynamic relocation type 2 at 0x"), e.getMessage());
        assertTrue(e.getMessage().endsWith("is not one lkmpre knows for e_machine 62: it cannot tell the address the kernel would use"),
                e.getMessage());
    }

    /** A kernel whose ksymtab value fields were zeroed: every PREL32 entry points into __ksymtab itself. */
    @Test
    void zeroedEntriesRefuseTheKernel() throws Exception {
        byte[] data = Files.readAllBytes(Fixtures.vmlinux());
        ElfFile elf = ElfFile.parse("fx", data);
        for (String table : List.of("__ksymtab", "__ksymtab_gpl")) {
            Section s = elf.section(table).orElseThrow();
            for (long at = s.offset(); at < s.offset() + s.size(); at += 12) {
                ByteBuffer.wrap(data).putInt((int) at, 0);
            }
        }
        InputFormatException e = assertThrows(InputFormatException.class, () -> Vmlinux.parse("zeroed", data));
        assertTrue(e.getMessage().startsWith("zeroed: 10 of 10 exports have addresses outside every allocated section"
                + " (first: "), e.getMessage());
    }

    private static Map<String, String> describe(KernelSymbols k) {
        return k.exports().stream().collect(Collectors.toMap(ExportedSymbol::name, ExportedSymbol::toString));
    }
}
