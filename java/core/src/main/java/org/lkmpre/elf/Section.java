package org.lkmpre.elf;

/**
 * One section header, as read from the file.
 *
 * @param index     the section's index in the section header table
 * @param name      the section's name from {@code .shstrtab}
 * @param type      {@code sh_type}
 * @param flags     {@code sh_flags}
 * @param addr      {@code sh_addr}: the run-time address in an executable, 0 in a module
 * @param offset    {@code sh_offset}: where the section's bytes start in the file
 * @param size      {@code sh_size}
 * @param link      {@code sh_link}
 * @param info      {@code sh_info}
 * @param addralign {@code sh_addralign}
 * @param entsize   {@code sh_entsize}
 */
public record Section(int index, String name, int type, long flags, long addr, long offset, long size,
                      int link, int info, long addralign, long entsize) {
    /** {@code SHT_PROGBITS}. */
    public static final int SHT_PROGBITS = 1;
    /** {@code SHT_SYMTAB}. */
    public static final int SHT_SYMTAB = 2;
    /** {@code SHT_STRTAB}. */
    public static final int SHT_STRTAB = 3;
    /** {@code SHT_NOBITS}: occupies no file bytes. */
    public static final int SHT_NOBITS = 8;
    /** {@code SHF_ALLOC}: the section is loaded into memory. */
    public static final long SHF_ALLOC = 0x2;

    /** @return true if the section occupies bytes in the file */
    public boolean hasFileBytes() {
        return type != SHT_NOBITS && size > 0;
    }
}
