package org.lkmpre.preresolve;

import java.util.Optional;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.ElfPatch;
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
     * @throws org.lkmpre.InputFormatException if the module or its undo record is malformed
     */
    public static Optional<ElfPatch> restore(String path, byte[] data) {
        ElfFile elf = KernelModule.parse(path, data).elf();
        return UndoRecord.find(elf).map(undo -> undo.restore(elf));
    }
}
