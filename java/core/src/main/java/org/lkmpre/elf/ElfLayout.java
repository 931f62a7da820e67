package org.lkmpre.elf;

import java.util.Optional;

/**
 * Where each field lies in the ELF structures lkmpre reads and writes, for one ELF class: the
 * {@code offsetof} and {@code sizeof} values of {@code <elf.h>}'s {@code Elf32_*} or
 * {@code Elf64_*} types (kmod's habit: the structs describe layout, they are never laid over
 * file bytes). There are exactly two, {@link #ELF32} and {@link #ELF64}; a file's is chosen once,
 * from {@code e_ident[EI_CLASS]}, when it is opened. Offsets are in bytes from the start of the
 * structure; a field's width follows from its ELF type ({@code Elf_Addr}, {@code Elf_Off} and
 * {@code Elf_Xword} are {@link #wordSize} bytes wide).
 *
 * @param elfClass     {@code e_ident[EI_CLASS]}: 1 ({@code ELFCLASS32}) or 2 ({@code ELFCLASS64})
 * @param wordSize     width of an address or offset ({@code Elf_Addr}, {@code Elf_Off}): 4 or 8
 * @param ehsize       {@code sizeof(Elf_Ehdr)}
 * @param eType        {@code offsetof(Elf_Ehdr, e_type)} (16 bits)
 * @param eMachine     {@code offsetof(Elf_Ehdr, e_machine)} (16 bits)
 * @param eShoff       {@code offsetof(Elf_Ehdr, e_shoff)} (a word)
 * @param eShentsize   {@code offsetof(Elf_Ehdr, e_shentsize)} (16 bits)
 * @param eShnum       {@code offsetof(Elf_Ehdr, e_shnum)} (16 bits)
 * @param eShstrndx    {@code offsetof(Elf_Ehdr, e_shstrndx)} (16 bits)
 * @param shentsize    {@code sizeof(Elf_Shdr)}
 * @param shName       {@code offsetof(Elf_Shdr, sh_name)} (32 bits)
 * @param shType       {@code offsetof(Elf_Shdr, sh_type)} (32 bits)
 * @param shFlags      {@code offsetof(Elf_Shdr, sh_flags)} (a word)
 * @param shAddr       {@code offsetof(Elf_Shdr, sh_addr)} (a word)
 * @param shOffset     {@code offsetof(Elf_Shdr, sh_offset)} (a word)
 * @param shSize       {@code offsetof(Elf_Shdr, sh_size)} (a word)
 * @param shLink       {@code offsetof(Elf_Shdr, sh_link)} (32 bits)
 * @param shInfo       {@code offsetof(Elf_Shdr, sh_info)} (32 bits)
 * @param shAddralign  {@code offsetof(Elf_Shdr, sh_addralign)} (a word)
 * @param shEntsize    {@code offsetof(Elf_Shdr, sh_entsize)} (a word)
 * @param symEntsize   {@code sizeof(Elf_Sym)}
 * @param stName       {@code offsetof(Elf_Sym, st_name)} (32 bits)
 * @param stValue      {@code offsetof(Elf_Sym, st_value)} (a word)
 * @param stSize       {@code offsetof(Elf_Sym, st_size)} (a word)
 * @param stInfo       {@code offsetof(Elf_Sym, st_info)} (8 bits)
 * @param stOther      {@code offsetof(Elf_Sym, st_other)} (8 bits)
 * @param stShndx      {@code offsetof(Elf_Sym, st_shndx)} (16 bits)
 * @param relEntsize   {@code sizeof(Elf_Rel)}
 * @param relaEntsize  {@code sizeof(Elf_Rela)}
 * @param rOffset      {@code offsetof(Elf_Rel[a], r_offset)} (a word)
 * @param rInfo        {@code offsetof(Elf_Rel[a], r_info)} (a word)
 * @param rAddend      {@code offsetof(Elf_Rela, r_addend)} (a word)
 */
public record ElfLayout(int elfClass, int wordSize, int ehsize, int eType, int eMachine, int eShoff, int eShentsize,
                        int eShnum, int eShstrndx, int shentsize, int shName, int shType, int shFlags, int shAddr,
                        int shOffset, int shSize, int shLink, int shInfo, int shAddralign, int shEntsize,
                        int symEntsize, int stName, int stValue, int stSize, int stInfo, int stOther, int stShndx,
                        int relEntsize, int relaEntsize, int rOffset, int rInfo, int rAddend) {
    /** {@code ELFCLASS32}: {@code Elf32_Ehdr}, {@code Elf32_Shdr}, {@code Elf32_Sym}, {@code Elf32_Rel[a]}. */
    public static final ElfLayout ELF32 = new ElfLayout(1, 4, 52, 16, 18, 32, 46, 48, 50,
            40, 0, 4, 8, 12, 16, 20, 24, 28, 32, 36,
            16, 0, 4, 8, 12, 13, 14,
            8, 12, 0, 4, 8);
    /**
     * {@code ELFCLASS64}: {@code Elf64_Ehdr}, {@code Elf64_Shdr}, {@code Elf64_Sym} (whose
     * one-byte fields come before the value, unlike ELF32's), {@code Elf64_Rel[a]}.
     */
    public static final ElfLayout ELF64 = new ElfLayout(2, 8, 64, 16, 18, 40, 58, 60, 62,
            64, 0, 4, 8, 16, 24, 32, 40, 44, 48, 56,
            24, 0, 8, 16, 4, 5, 6,
            16, 24, 0, 8, 16);

    /**
     * @param elfClass {@code e_ident[EI_CLASS]}
     * @return the layout of that class, or empty for a class ELF does not define
     */
    public static Optional<ElfLayout> of(int elfClass) {
        return switch (elfClass) {
            case 1 -> Optional.of(ELF32);
            case 2 -> Optional.of(ELF64);
            default -> Optional.empty();
        };
    }

    /** @return true for {@link #ELF64} */
    public boolean is64() {
        return wordSize == 8;
    }

    /** @return {@code value} as the class stores an address: its low 32 bits in ELF32 */
    public long toWord(long value) {
        return is64() ? value : value & 0xffff_ffffL;
    }

    /** @return the relocation type of an {@code r_info} ({@code ELF32_R_TYPE}, {@code ELF64_R_TYPE}) */
    public int relType(long info) {
        return (int) (is64() ? info & 0xffff_ffffL : info & 0xff);
    }

    /** @return the symbol index of an {@code r_info} ({@code ELF32_R_SYM}, {@code ELF64_R_SYM}) */
    public int relSymbol(long info) {
        return (int) (is64() ? info >>> 32 : info >>> 8);
    }
}
