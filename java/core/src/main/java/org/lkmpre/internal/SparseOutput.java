package org.lkmpre.internal;

import java.util.ArrayList;
import java.util.List;
import org.lkmpre.elf.ElfBytes;
import org.lkmpre.elf.ElfLayout;
import org.lkmpre.elf.ElfPatch;
import org.lkmpre.elf.Section;

/**
 * The C core's {@code LKMPRE_OUT_SPARSE} output read back as an {@link ElfPatch}. In that mode the
 * core writes into the module's image only what changes (the new {@code e_shoff} and
 * {@code e_shnum}, each preresolved symbol's {@code st_value} and {@code st_shndx}) and after it
 * the whole tail, so a binding copies a few fields and the tail, never the module
 * (native/tool/tree.c reads it the same way). The patch is the one the reference writes.
 */
public final class SparseOutput {
    /** Reads bytes the core wrote into its output buffer. */
    @FunctionalInterface
    public interface Reader {
        /**
         * @param offset where in the output buffer
         * @param length how many bytes
         * @return a copy of them
         */
        byte[] read(long offset, int length);
    }

    private SparseOutput() {
    }

    /**
     * @param path      how to name the module in errors
     * @param module    holds the module the core read
     * @param length    the module's length
     * @param symbols   indexes in {@code .symtab} of the symbols the core preresolved
     * @param outLength {@code out_len}: how far the output goes
     * @param out       the output buffer
     * @return the patch: the image kept, the changed fields, the tail
     * @throws org.lkmpre.InputFormatException if the output does not hold what the core promises
     */
    public static ElfPatch patch(String path, byte[] module, int length, int[] symbols, long outLength, Reader out) {
        ElfBytes in = ElfBytes.open(path, module, length);
        ElfLayout l = in.layout();
        int word = l.wordSize();
        ElfBytes header = in.alike(path + " (output header)", out.read(0, l.ehsize()));
        long shoff = header.word(l.eShoff());
        // The tail starts with the grown .shstrtab: its header in the grown table says where.
        long names = shoff + (long) in.u16(l.eShstrndx()) * l.shentsize();
        long image = in.alike(path + " (output)", out.read(names + l.shOffset(), word)).word(0);
        if (image > length || image > outLength || image < l.ehsize()) {
            throw new IllegalStateException(path + ": native core output names image length " + image);
        }
        List<ElfPatch.Edit> edits = new ArrayList<>(2 + 2 * symbols.length);
        edits.add(field(out, l.eShoff(), word));
        edits.add(field(out, l.eShnum(), 2));
        long symtab = symbolTable(in);
        for (int s : symbols) {
            long entry = symtab + (long) s * l.symEntsize();
            edits.add(field(out, entry + l.stValue(), word));
            edits.add(field(out, entry + l.stShndx(), 2));
        }
        edits.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        return new ElfPatch((int) image, List.copyOf(edits), out.read(image, Math.toIntExact(outLength - image)));
    }

    private static ElfPatch.Edit field(Reader out, long offset, int size) {
        return new ElfPatch.Edit(offset, out.read(offset, size));
    }

    /** @return the file offset of the first {@code SHT_SYMTAB} (the core validated the headers) */
    private static long symbolTable(ElfBytes in) {
        ElfLayout l = in.layout();
        long shoff = in.word(l.eShoff());
        int shnum = in.u16(l.eShnum());
        for (int i = 0; i < shnum; i++) {
            long at = shoff + (long) i * l.shentsize();
            if (in.u32(at + l.shType()) == Section.SHT_SYMTAB) {
                return in.word(at + l.shOffset());
            }
        }
        throw new IllegalStateException("native core preresolved a module without a symbol table");
    }
}
