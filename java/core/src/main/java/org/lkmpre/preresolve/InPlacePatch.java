package org.lkmpre.preresolve;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfBytes;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.ElfLayout;
import org.lkmpre.elf.ElfPatch;
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
     * @param data   holds the module
     * @param length the module's length
     * @return the original image of a marked module whose undo record lists a symbol that is not
     *         {@code SHN_ABS} yet (a write killed in step 4), or empty for any other module
     */
    static Optional<byte[]> unfinished(String name, byte[] data, int length) {
        try {
            ElfFile elf = ElfFile.parse(name, data, length);
            if (UndoRecord.find(elf).filter(undo -> undo.interrupted(elf)).isPresent()) {
                byte[] module = Arrays.copyOf(data, length);
                return Unpreresolver.restore(name, module).map(p -> p.apply(module));
            }
        } catch (InputFormatException e) {
            // Not one lkmpre can read back: the backend reports it as it is.
        }
        return Optional.empty();
    }

    /**
     * Writes {@code patch} of {@code plain} (its first {@code plainLength} bytes) over the file
     * {@code out} has open (and locked), which holds the first {@code currentLength} bytes of
     * {@code current}: {@code plain} itself, or plain with what a killed run left (a stale tail, a
     * write cut off in step 4). Steps 1-4, with the symbol table written as the span from the first
     * changed entry to the last (as lkmpre-tree does).
     *
     * @return false, having written nothing, if the patch changes more than the ELF header and
     *         symbol fields of the image, or {@code current} differs from {@code plain} anywhere the
     *         patch does not write (then the caller rewrites the file)
     */
    static boolean write(String name, FileChannel out, byte[] current, int currentLength, byte[] plain, int plainLength,
                         ElfPatch patch) throws IOException {
        ElfLayout l = ElfBytes.open(name, plain, plainLength).layout();
        int ehsize = l.ehsize();
        int image = patch.keep();
        int lo = Integer.MAX_VALUE;
        int hi = 0;
        for (ElfPatch.Edit e : patch.edits()) {
            int at = (int) e.offset();
            int size = e.bytes().length;
            if (at < ehsize ? at + size > ehsize : size != l.wordSize() && size != 2) {
                return false; // neither a header field nor a symbol's st_value or st_shndx
            }
            if (at >= ehsize) {
                lo = Math.min(lo, at);
                hi = Math.max(hi, at + size);
            }
        }
        if (lo > hi) {
            lo = hi = ehsize;
        }
        if (image > currentLength || image > plainLength || hi > image
                || current != plain && (Arrays.mismatch(current, ehsize, lo, plain, ehsize, lo) >= 0
                        || Arrays.mismatch(current, hi, image, plain, hi, image) >= 0)) {
            return false;
        }
        byte[] header = Arrays.copyOf(plain, ehsize);
        byte[] values = Arrays.copyOfRange(current, lo, hi);
        byte[] symbols = Arrays.copyOfRange(plain, lo, hi);
        for (ElfPatch.Edit e : patch.edits()) {
            int at = (int) e.offset();
            byte[] b = e.bytes();
            if (at < ehsize) {
                System.arraycopy(b, 0, header, at, b.length);
            } else {
                System.arraycopy(b, 0, symbols, at - lo, b.length);
                if (b.length == l.wordSize()) {
                    System.arraycopy(b, 0, values, at - lo, b.length);
                }
            }
        }
        boolean marked = Arrays.equals(current, 0, ehsize, header, 0, ehsize);
        if (!marked && currentLength > image) {
            out.truncate(image);
        }
        writeAt(out, ByteBuffer.wrap(patch.tail()), image);
        writeAt(out, ByteBuffer.wrap(header), 0);
        writeAt(out, ByteBuffer.wrap(values), lo);
        writeAt(out, ByteBuffer.wrap(symbols), lo);
        return true;
    }

    private static void writeAt(FileChannel out, ByteBuffer buf, long at) throws IOException {
        while (buf.hasRemaining()) {
            at += out.write(buf, at);
        }
    }
}
