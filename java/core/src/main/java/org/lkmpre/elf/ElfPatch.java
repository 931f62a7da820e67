package org.lkmpre.elf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;

/**
 * An in-place rewrite of an ELF file: byte edits inside the original image, an optional shorter
 * length (to drop a trailer), and a tail appended after it. Everything not edited stays
 * byte-for-byte identical.
 *
 * <p>Adding a section appends a grown copy of {@code .shstrtab} and a grown copy of the section
 * header table after the image, then points the ELF header and the {@code .shstrtab} header at
 * the copies; the old copies stay where they were as unreferenced bytes. This keeps every
 * existing offset valid, so nothing else in the file has to move.
 *
 * @param keep  how many leading bytes of the original to keep
 * @param edits replacements inside {@code [0, keep)}, sorted by offset, not overlapping
 * @param tail  bytes appended after the kept image
 */
public record ElfPatch(int keep, List<Edit> edits, byte[] tail) {
    /**
     * One replacement of original bytes.
     *
     * @param offset where the replacement starts
     * @param bytes  the new bytes
     */
    public record Edit(long offset, byte[] bytes) {
    }

    /** @return the length of the patched file */
    public long outputLength() {
        return (long) keep + tail.length;
    }

    /** @return true if the patch changes nothing */
    public boolean isIdentity(int originalLength) {
        return edits.isEmpty() && tail.length == 0 && keep == originalLength;
    }

    /** @return the patched file as a new array */
    public byte[] apply(byte[] original) {
        byte[] out = new byte[Math.toIntExact(outputLength())];
        System.arraycopy(original, 0, out, 0, keep);
        for (Edit e : edits) {
            System.arraycopy(e.bytes(), 0, out, (int) e.offset(), e.bytes().length);
        }
        System.arraycopy(tail, 0, out, keep, tail.length);
        return out;
    }

    /** Writes the patched file to {@code out} sequentially, without building it in memory. */
    public void writeTo(byte[] original, WritableByteChannel out) throws IOException {
        int pos = 0;
        for (Edit e : edits) {
            writeFully(out, ByteBuffer.wrap(original, pos, (int) e.offset() - pos));
            writeFully(out, ByteBuffer.wrap(e.bytes()));
            pos = (int) e.offset() + e.bytes().length;
        }
        writeFully(out, ByteBuffer.wrap(original, pos, keep - pos));
        writeFully(out, ByteBuffer.wrap(tail));
    }

    private static void writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    /** Collects edits to one parsed file; {@link #build()} produces the patch. */
    public static final class Builder {
        private final ElfFile elf;
        private final ElfBytes b;
        private final TreeMap<Long, byte[]> edits = new TreeMap<>();
        private final List<String> newSections = new ArrayList<>();

        Builder(ElfFile elf) {
            this.elf = elf;
            this.b = elf.bytes();
        }

        /**
         * Sets {@code st_value} and {@code st_shndx} of symbol {@code sym} in {@code symtab}.
         */
        public Builder setSymbol(Section symtab, Symbol sym, long value, int shndx) {
            int entsize = b.is64() ? 24 : 16;
            long at = symtab.offset() + (long) sym.index() * entsize;
            b.check(at, entsize, "symbol " + sym.index());
            if (b.is64()) {
                put(at + 6, b.encode(shndx, 2));
                put(at + 8, b.encode(value, 8));
            } else {
                put(at + 4, b.encode(value, 4));
                put(at + 14, b.encode(shndx, 2));
            }
            return this;
        }

        /** Adds an empty, unallocated {@code SHT_PROGBITS} section called {@code name}. */
        public Builder addEmptySection(String name) {
            newSections.add(name);
            return this;
        }

        private void put(long offset, byte[] value) {
            edits.put(offset, value);
        }

        /**
         * Builds the patch.
         *
         * @param keep how many leading bytes of the file to keep; at least the end of the ELF image
         */
        public ElfPatch build(int keep) {
            if (keep > b.length() || keep < imageEnd()) {
                throw new IllegalArgumentException("keep " + keep + " cuts into the ELF image of " + elf.file());
            }
            byte[] tail = new byte[0];
            if (!newSections.isEmpty()) {
                tail = appendSections(keep);
            }
            List<Edit> list = new ArrayList<>();
            edits.forEach((off, val) -> list.add(new Edit(off, val)));
            list.sort(Comparator.comparingLong(Edit::offset));
            return new ElfPatch(keep, Collections.unmodifiableList(list), tail);
        }

        /** @return the end of the last byte that a header or section occupies */
        private long imageEnd() {
            long end = elf.sectionHeaderOffset() + (long) elf.sections().size() * (b.is64() ? 64 : 40);
            for (Section s : elf.sections()) {
                if (s.hasFileBytes()) {
                    end = Math.max(end, s.offset() + s.size());
                }
            }
            return end;
        }

        private byte[] appendSections(int keep) {
            boolean is64 = b.is64();
            int shentsize = is64 ? 64 : 40;
            Section shstr = elf.sections().get(elf.sectionNameTableIndex());
            byte[] oldNames = elf.contents(shstr);
            var names = new java.io.ByteArrayOutputStream();
            names.writeBytes(oldNames);
            int[] nameOffsets = new int[newSections.size()];
            for (int i = 0; i < newSections.size(); i++) {
                nameOffsets[i] = names.size();
                names.writeBytes(newSections.get(i).getBytes(StandardCharsets.ISO_8859_1));
                names.write(0);
            }
            byte[] newNames = names.toByteArray();
            long namesAt = keep;
            // The section header table must be aligned to the class's address size.
            int align = b.wordSize();
            long shAt = (namesAt + newNames.length + align - 1) / align * align;
            int oldCount = elf.sections().size();
            int newCount = oldCount + newSections.size();
            if (newCount >= 0xff00) {
                throw b.fail("too many sections to add " + newSections.size() + " more");
            }
            ByteBuffer tail = ByteBuffer.allocate(Math.toIntExact(shAt - namesAt + (long) newCount * shentsize));
            tail.put(newNames);
            tail.position((int) (shAt - namesAt));
            byte[] oldHeaders = b.slice(elf.sectionHeaderOffset(), (long) oldCount * shentsize, "section header table");
            tail.put(oldHeaders);
            for (int i = 0; i < newSections.size(); i++) {
                // An empty PROGBITS section placed at the end of the new name table: valid for any
                // reader that checks sh_offset + sh_size against the file length.
                writeHeader(tail, nameOffsets[i], Section.SHT_PROGBITS, namesAt + newNames.length);
            }
            byte[] out = tail.array();
            // Point the .shstrtab header (in the new table) at the grown copy.
            int shstrAt = (int) (shAt - namesAt) + shstr.index() * shentsize;
            copyInto(out, shstrAt + (is64 ? 24 : 16), b.encode(namesAt, b.wordSize()));
            copyInto(out, shstrAt + (is64 ? 32 : 20), b.encode(newNames.length, b.wordSize()));
            put(is64 ? 40 : 32, b.encode(shAt, b.wordSize()));
            put(is64 ? 60 : 48, b.encode(newCount, 2));
            return out;
        }

        private void writeHeader(ByteBuffer tail, int name, int type, long offset) {
            byte[] h = new byte[b.is64() ? 64 : 40];
            copyInto(h, 0, b.encode(name, 4));
            copyInto(h, 4, b.encode(type, 4));
            if (b.is64()) {
                copyInto(h, 24, b.encode(offset, 8));
                copyInto(h, 48, b.encode(1, 8));
            } else {
                copyInto(h, 16, b.encode(offset, 4));
                copyInto(h, 32, b.encode(1, 4));
            }
            tail.put(h);
        }

        private static void copyInto(byte[] dst, int at, byte[] src) {
            System.arraycopy(src, 0, dst, at, src.length);
        }
    }
}
