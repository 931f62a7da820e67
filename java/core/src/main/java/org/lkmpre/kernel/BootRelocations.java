package org.lkmpre.kernel;

import java.util.List;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.ElfLayout;
import org.lkmpre.elf.Relocation;
import org.lkmpre.elf.Section;
import org.lkmpre.elf.SectionImage;
import org.lkmpre.elf.Symbol;

/**
 * What a relocatable kernel's boot code does to its export tables before anything reads them:
 * it applies the dynamic relocations ({@code .rela.dyn}, {@code .rel.dyn}: the allocated
 * relocation sections) that cover them, here with a KASLR offset of zero. s390x is such a kernel
 * (a PIE whose absolute {@code __ksymtab} words are completed at boot, some against symbols
 * whose place holds 0); arm64 and ppc64el relocate too, but their PREL32 tables need nothing.
 * A relocation of a type that is neither RELATIVE nor an absolute word makes the kernel unusable
 * here: lkmpre cannot know the address the kernel will use.
 */
final class BootRelocations {
    private static final int SHT_DYNSYM = 11;

    private BootRelocations() {
    }

    /** The relocation types the boot code's rule covers, per {@code e_machine}. */
    private enum Kind {
        NONE, RELATIVE, ABSOLUTE, UNKNOWN
    }

    /**
     * Applies every allocated relocation section's entries that touch one of {@code tables}.
     *
     * @throws InputFormatException if a relocation that touches a table has a type lkmpre does
     *                              not know, straddles a table's end, or names a missing symbol
     */
    static void apply(ElfFile elf, List<SectionImage> tables) {
        Types types = Types.of(elf.machine(), elf.is64());
        for (Section rel : elf.sections()) {
            if ((rel.type() != Relocation.SHT_RELA && rel.type() != Relocation.SHT_REL)
                    || (rel.flags() & Section.SHF_ALLOC) == 0) {
                continue;
            }
            for (Relocation r : elf.relocations(rel)) {
                SectionImage table = touched(tables, r.offset(), elf.wordSize());
                if (table == null) {
                    continue;
                }
                Kind kind = r.type() == 0 ? Kind.NONE : types == null ? Kind.UNKNOWN : types.kind(r.type());
                if (kind == Kind.NONE) {
                    continue;
                }
                String where = " at 0x" + Long.toHexString(r.offset()) + " in " + table.section().name();
                if (kind == Kind.UNKNOWN) {
                    throw new InputFormatException(elf.file(), "dynamic relocation type " + r.type() + where
                            + " is not one lkmpre knows for e_machine " + elf.machine()
                            + ": it cannot tell the address the kernel would use");
                }
                if (!table.covers(r.offset(), elf.wordSize())) {
                    throw new InputFormatException(elf.file(), "dynamic relocation" + where + " runs past the section's end");
                }
                long addend = r.addend().orElseGet(() -> table.word(r.offset()));
                long value = addend;
                if (kind == Kind.ABSOLUTE && r.symbol() != 0) {
                    value += symbolValue(elf, rel, r.symbol(), where);
                }
                table.putWord(r.offset(), elf.layout().toWord(value));
            }
        }
    }

    private static SectionImage touched(List<SectionImage> tables, long at, int size) {
        for (SectionImage t : tables) {
            if (t.overlaps(at, size)) {
                return t;
            }
        }
        return null;
    }

    /**
     * The value a defined symbol adds; an undefined one adds nothing, as in s390's boot code
     * ({@code handle_relocs}). Reads only the two fields it needs, bounds-checked.
     */
    private static long symbolValue(ElfFile elf, Section rel, int symbol, String where) {
        List<Section> sections = elf.sections();
        ElfLayout l = elf.layout();
        int entsize = l.symEntsize();
        Section symtab = rel.link() > 0 && rel.link() < sections.size() ? sections.get(rel.link()) : null;
        if (symtab == null || (symtab.type() != SHT_DYNSYM && symtab.type() != Section.SHT_SYMTAB)
                || symtab.entsize() != entsize || !symtab.hasFileBytes()) {
            throw new InputFormatException(elf.file(), "relocation section " + rel.name() + " links to section "
                    + rel.link() + ", which is not a symbol table");
        }
        if (Integer.toUnsignedLong(symbol) >= symtab.size() / entsize) {
            throw new InputFormatException(elf.file(), "dynamic relocation" + where + " names symbol "
                    + Integer.toUnsignedString(symbol) + ", which its symbol table does not have");
        }
        long at = symtab.offset() + Integer.toUnsignedLong(symbol) * entsize;
        int shndx = elf.u16(at + l.stShndx());
        return shndx == Symbol.SHN_UNDEF ? 0 : elf.word(at + l.stValue());
    }

    /** A machine's RELATIVE type and its class-width absolute types (plain and GLOB_DAT). */
    private record Types(int relative, int absolute, int globDat) {
        static Types of(int machine, boolean is64) {
            return switch (machine) {
                case 3 -> new Types(8, 1, 6);                  // EM_386: R_386_RELATIVE, R_386_32, R_386_GLOB_DAT
                case 20 -> new Types(22, 1, 20);               // EM_PPC: R_PPC_RELATIVE, ADDR32, GLOB_DAT
                case 21 -> new Types(22, 38, 20);              // EM_PPC64: R_PPC64_RELATIVE, ADDR64, GLOB_DAT
                case 22 -> new Types(12, is64 ? 22 : 4, 10);   // EM_S390: R_390_RELATIVE, 64 (32), GLOB_DAT
                case 40 -> new Types(23, 2, 21);               // EM_ARM: R_ARM_RELATIVE, ABS32, GLOB_DAT
                case 42 -> new Types(165, 1, 163);             // EM_SH: R_SH_RELATIVE, DIR32, GLOB_DAT
                case 62 -> new Types(8, 1, 6);                 // EM_X86_64: R_X86_64_RELATIVE, 64, GLOB_DAT
                case 183 -> new Types(1027, 257, 1025);        // EM_AARCH64: R_AARCH64_RELATIVE, ABS64, GLOB_DAT
                default -> null;
            };
        }

        Kind kind(int type) {
            return type == 0 ? Kind.NONE
                    : type == relative ? Kind.RELATIVE
                    : type == absolute || type == globDat ? Kind.ABSOLUTE
                    : Kind.UNKNOWN;
        }
    }
}
