package org.lkmpre.elf;

/**
 * One entry of a symbol table.
 *
 * @param index the entry's index in {@code .symtab}
 * @param name  the name from the linked string table ("" for none)
 * @param value {@code st_value}
 * @param size  {@code st_size}
 * @param info  {@code st_info}: binding in the high nibble, type in the low nibble
 * @param other {@code st_other}
 * @param shndx {@code st_shndx}
 */
public record Symbol(int index, String name, long value, long size, int info, int other, int shndx) {
    /** {@code SHN_UNDEF}: the symbol is defined elsewhere. */
    public static final int SHN_UNDEF = 0;
    /** {@code SHN_ABS}: the value is an absolute address, not relative to a section. */
    public static final int SHN_ABS = 0xfff1;
    /** {@code STB_WEAK}. */
    public static final int STB_WEAK = 2;

    /** @return the binding ({@code STB_LOCAL}, {@code STB_GLOBAL}, {@code STB_WEAK}) */
    public int bind() {
        return info >>> 4;
    }

    /** @return the type ({@code STT_NOTYPE}, {@code STT_FUNC}, ...) */
    public int type() {
        return info & 0xf;
    }

    /** @return true for an undefined symbol with a name, the kind a module asks the kernel for */
    public boolean isUndefinedReference() {
        return shndx == SHN_UNDEF && index != 0 && !name.isEmpty();
    }
}
