package org.lkmpre.elf;

/**
 * A copy of one section's bytes, read and written by run-time address in the file's class and
 * byte order: what the section holds once a boot-time step (applying dynamic relocations) has
 * run. Writing it never changes the file. Every access is bounds-checked against the section.
 */
public final class SectionImage {
    private final Section section;
    private final ElfBytes bytes;

    SectionImage(Section section, ElfBytes bytes) {
        this.section = section;
        this.bytes = bytes;
    }

    /** @return the section this is a copy of */
    public Section section() {
        return section;
    }

    /** @return true if any of the {@code size} bytes at run-time address {@code vaddr} lie in the section */
    public boolean overlaps(long vaddr, long size) {
        return Long.compareUnsigned(vaddr, section.addr() + section.size()) < 0
                && Long.compareUnsigned(vaddr + size, section.addr()) > 0;
    }

    /** @return true if all {@code size} bytes at run-time address {@code vaddr} lie in the section */
    public boolean covers(long vaddr, long size) {
        return Long.compareUnsigned(vaddr - section.addr(), section.size()) < 0
                && Long.compareUnsigned(size, section.size() - (vaddr - section.addr())) <= 0;
    }

    /** Reads an address-sized value (4 or 8 bytes by class) at run-time address {@code vaddr}. */
    public long word(long vaddr) {
        return bytes.word(offset(vaddr));
    }

    /** Reads an unsigned 32-bit value at run-time address {@code vaddr}. */
    public long u32(long vaddr) {
        return bytes.u32(offset(vaddr));
    }

    /** Reads a signed 32-bit value at run-time address {@code vaddr}. */
    public int s32(long vaddr) {
        return bytes.s32(offset(vaddr));
    }

    /** Writes an address-sized value at run-time address {@code vaddr}. */
    public void putWord(long vaddr, long value) {
        bytes.putWord(offset(vaddr), value);
    }

    private long offset(long vaddr) {
        long rel = vaddr - section.addr();
        if (Long.compareUnsigned(rel, section.size()) >= 0) {
            throw bytes.fail("address 0x" + Long.toHexString(vaddr) + " is outside section " + section.name());
        }
        return rel;
    }
}
