package org.lkmpre.preresolve;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalInt;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.ElfLayout;
import org.lkmpre.elf.Section;
import org.lkmpre.module.UndoRecord;

/**
 * A preresolved module written over its file where it lies, only the bytes that change, in an
 * order that keeps the file a correct module at every step; and the states such a write leaves
 * when it is killed, recognized so that the next run finishes it. The protocol is lkmpre-tree's
 * (native/tool/tree.c; docs/native.md), so either finishes what the other left:
 * <ol>
 * <li>a stripped signature is cut off (the old module, unsigned);</li>
 * <li>the tail (grown {@code .shstrtab}, undo record, grown section headers) is appended: nothing
 * references it yet;</li>
 * <li>the ELF header is written: the module is marked and carries its undo record;</li>
 * <li>the symbol table with every new {@code st_value} but the old {@code st_shndx} (a symbol
 * still {@code SHN_UNDEF} is resolved by the kernel, whatever its value), then the new table.</li>
 * </ol>
 */
final class InPlacePatch {
    private InPlacePatch() {
    }

    /**
     * @return the original image when {@code data} is an unmarked module followed by a whole tail
     *         that nothing references (a write killed between steps 2 and 3), else {@code data}
     */
    static byte[] withoutStaleTail(byte[] data) {
        OptionalInt image = UndoRecord.staleTail(data);
        return image.isPresent() ? Arrays.copyOf(data, image.getAsInt()) : data;
    }

    /**
     * @return the original image of a marked module whose undo record lists a symbol that is not
     *         {@code SHN_ABS} yet (a write killed in step 4), or empty for any other module
     */
    static Optional<byte[]> unfinished(String name, byte[] data) {
        try {
            ElfFile elf = ElfFile.parse(name, data);
            if (UndoRecord.find(elf).filter(undo -> undo.interrupted(elf)).isPresent()) {
                return Unpreresolver.restore(name, data).map(p -> p.apply(data));
            }
        } catch (InputFormatException e) {
            // Not one lkmpre can read back: the backend reports it as it is.
        }
        return Optional.empty();
    }

    /**
     * Writes {@code patched} over the file {@code out} has open (and locked), which holds
     * {@code current}, in steps 1-4.
     *
     * @return false, having written nothing, if {@code patched} differs from {@code current} in
     *         more than its ELF header, symbol table and tail (then the caller rewrites the file)
     */
    static boolean write(String name, FileChannel out, byte[] current, byte[] patched) throws IOException {
        ElfFile elf = ElfFile.parse(name, patched);
        Section symtab = elf.symbolTable().orElseThrow();
        int image = (int) UndoRecord.find(elf).orElseThrow().imageLength();
        ElfLayout l = elf.layout();
        int ehsize = l.ehsize();
        int from = (int) symtab.offset();
        int to = (int) (symtab.offset() + symtab.size());
        if (image > current.length || to > image || from < ehsize
                || Arrays.mismatch(current, ehsize, from, patched, ehsize, from) >= 0
                || Arrays.mismatch(current, to, image, patched, to, image) >= 0) {
            return false;
        }
        boolean marked = Arrays.equals(current, 0, ehsize, patched, 0, ehsize);
        byte[] values = Arrays.copyOfRange(current, from, to);
        for (int at = 0; at < values.length; at += l.symEntsize()) {
            System.arraycopy(patched, from + at + l.stValue(), values, at + l.stValue(), l.wordSize());
        }
        if (!marked && current.length > image) {
            out.truncate(image);
        }
        writeAt(out, ByteBuffer.wrap(patched, image, patched.length - image), image);
        writeAt(out, ByteBuffer.wrap(patched, 0, ehsize), 0);
        writeAt(out, ByteBuffer.wrap(values), from);
        writeAt(out, ByteBuffer.wrap(patched, from, to - from), from);
        return true;
    }

    private static void writeAt(FileChannel out, ByteBuffer buf, long at) throws IOException {
        while (buf.hasRemaining()) {
            at += out.write(buf, at);
        }
    }
}
