package org.lkmpre.preresolve;

import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.ElfPatch;
import org.lkmpre.elf.Section;
import org.lkmpre.module.KernelModule;
import org.lkmpre.module.UndoRecord;

/**
 * Undoes a preresolve: from the {@code .lkmpre.undo} record, restores every patched symbol's
 * value and section index and the original section header table, and cuts the grown tables off.
 * The result is the original module byte for byte, except for an appended signature, which
 * preresolving removed (or replaced) and restoring does not bring back.
 */
public final class Unpreresolver {
    private Unpreresolver() {
    }

    /**
     * Restores one module.
     *
     * @param path name for messages
     * @param data the preresolved module (signed or not)
     * @return the patch that restores it, or empty if lkmpre did not preresolve it
     * @throws InputFormatException if the module or its undo record is malformed
     */
    public static Optional<ElfPatch> restore(String path, byte[] data) {
        KernelModule module = KernelModule.parse(path, data);
        ElfFile elf = module.elf();
        Optional<Section> undoSection = elf.section(UndoRecord.SECTION);
        if (undoSection.isEmpty()) {
            return Optional.empty();
        }
        UndoRecord undo = UndoRecord.decode(path, elf.contents(undoSection.get()));
        int shentsize = elf.is64() ? 64 : 40;
        if (undo.imageLength() > elf.length() || undo.imageLength() < 0 || undo.shoff() < 0
                || undo.shoff() + (long) undo.shnum() * shentsize > undo.imageLength()) {
            throw new InputFormatException(path, UndoRecord.SECTION + " describes an image that is not in the file");
        }
        Section symtab = elf.symbolTable().orElseThrow();
        if (symtab.offset() + symtab.size() > undo.imageLength()) {
            throw new InputFormatException(path, "the symbol table lies outside the original image");
        }
        ElfPatch.Builder patch = elf.patch().setSectionHeaderTable(undo.shoff(), undo.shnum());
        for (UndoRecord.Entry e : undo.symbols()) {
            patch.setSymbol(symtab, e.index(), e.value(), e.shndx());
        }
        return Optional.of(patch.buildTruncated((int) undo.imageLength()));
    }
}
