package org.lkmpre.elf;

import java.util.OptionalLong;

/**
 * One entry of a relocation section ({@code SHT_REL} or {@code SHT_RELA}).
 *
 * @param offset {@code r_offset}: in an executable, the run-time address of the place
 * @param type   the relocation type, machine-specific
 * @param symbol the symbol table index, 0 for none
 * @param addend {@code r_addend} of an {@code SHT_RELA} entry; empty for {@code SHT_REL}, whose
 *               addend is what the place holds
 */
public record Relocation(long offset, int type, int symbol, OptionalLong addend) {
    /** {@code SHT_RELA}. */
    public static final int SHT_RELA = 4;
    /** {@code SHT_REL}. */
    public static final int SHT_REL = 9;

    /** Checks that no component is null. */
    public Relocation {
        java.util.Objects.requireNonNull(addend);
    }
}
