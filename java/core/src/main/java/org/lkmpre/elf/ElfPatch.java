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

    /**
     * Writes the patched file to {@code out}, assembled in memory first: one write, where writing
     * the pieces in turn took a system call per edited field (455,716 for the Debian tree).
     */
    public void writeTo(byte[] original, WritableByteChannel out) throws IOException {
        writeFully(out, ByteBuffer.wrap(apply(original)));
    }

    private static void writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    /** Collects edits to one parsed file; {@link #build(int)} produces the patch. */
    public static final class Builder {
        private final ElfFile elf;
        private final ElfBytes b;
        private final ElfLayout l;
        private final TreeMap<Long, byte[]> edits = new TreeMap<>();
        private final List<String> newSections = new ArrayList<>();
        private final List<byte[]> newContents = new ArrayList<>();

        Builder(ElfFile elf) {
            this.elf = elf;
            this.b = elf.bytes();
            this.l = b.layout();
        }

        /**
         * Sets {@code st_value} and {@code st_shndx} of symbol {@code sym} in {@code symtab}.
         */
        public Builder setSymbol(Section symtab, Symbol sym, long value, int shndx) {
            return setSymbol(symtab, sym.index(), value, shndx);
        }

        /**
         * Sets {@code st_value} and {@code st_shndx} of symbol number {@code index} in {@code symtab}.
         *
         * @throws org.lkmpre.InputFormatException if the entry lies outside the table or the file
         */
        public Builder setSymbol(Section symtab, int index, long value, int shndx) {
            int entsize = l.symEntsize();
            if (index < 0 || (long) index * entsize >= symtab.size()) {
                throw b.fail("symbol " + index + " is outside the symbol table");
            }
            long at = symtab.offset() + (long) index * entsize;
            b.check(at, entsize, "symbol " + index);
            put(at + l.stValue(), b.encode(value, l.wordSize()));
            put(at + l.stShndx(), b.encode(shndx, 2));
            return this;
        }

        /** Points the ELF header at another section header table ({@code e_shoff}, {@code e_shnum}). */
        public Builder setSectionHeaderTable(long shoff, int shnum) {
            put(l.eShoff(), b.encode(shoff, l.wordSize()));
            put(l.eShnum(), b.encode(shnum, 2));
            return this;
        }

        /**
         * Builds a patch that keeps only {@code keep} leading bytes even where the current headers
         * describe more (restoring an image that an earlier patch grew).
         *
         * @throws org.lkmpre.InputFormatException if an edit lies beyond {@code keep}
         */
        public ElfPatch buildTruncated(int keep) {
            if (keep < 0 || keep > b.length()) {
                throw b.fail("length " + keep + " outside the file");
            }
            List<Edit> list = new ArrayList<>();
            for (var e : edits.entrySet()) {
                if (e.getKey() + e.getValue().length > keep) {
                    throw b.fail("edit at offset " + e.getKey() + " lies beyond the restored length " + keep);
                }
                list.add(new Edit(e.getKey(), e.getValue()));
            }
            return new ElfPatch(keep, Collections.unmodifiableList(list), new byte[0]);
        }

        /** Adds an empty, unallocated {@code SHT_PROGBITS} section called {@code name}. */
        public Builder addEmptySection(String name) {
            return addSection(name, new byte[0]);
        }

        /**
         * Adds an unallocated {@code SHT_PROGBITS} section called {@code name} holding
         * {@code contents}; contents follow the grown name table, in the order added.
         */
        public Builder addSection(String name, byte[] contents) {
            newSections.add(name);
            newContents.add(contents.clone());
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
            long end = elf.sectionHeaderOffset() + (long) elf.sections().size() * l.shentsize();
            for (Section s : elf.sections()) {
                if (s.hasFileBytes()) {
                    end = Math.max(end, s.offset() + s.size());
                }
            }
            return end;
        }

        private byte[] appendSections(int keep) {
            int shentsize = l.shentsize();
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
            long contentsLength = 0;
            for (byte[] c : newContents) {
                contentsLength += c.length;
            }
            // The section header table must be aligned to the class's address size.
            int align = l.wordSize();
            long shAt = (namesAt + newNames.length + contentsLength + align - 1) / align * align;
            int oldCount = elf.sections().size();
            int newCount = oldCount + newSections.size();
            if (newCount >= 0xff00) {
                throw b.fail("too many sections to add " + newSections.size() + " more");
            }
            ByteBuffer tail = ByteBuffer.allocate(Math.toIntExact(shAt - namesAt + (long) newCount * shentsize));
            tail.put(newNames);
            for (byte[] c : newContents) {
                tail.put(c);
            }
            tail.position((int) (shAt - namesAt));
            byte[] oldHeaders = b.slice(elf.sectionHeaderOffset(), (long) oldCount * shentsize, "section header table");
            tail.put(oldHeaders);
            long contentAt = namesAt + newNames.length;
            for (int i = 0; i < newSections.size(); i++) {
                // Unallocated PROGBITS right after the new name table: valid for any reader that
                // checks sh_offset + sh_size against the file length.
                writeHeader(tail, nameOffsets[i], Section.SHT_PROGBITS, contentAt, newContents.get(i).length);
                contentAt += newContents.get(i).length;
            }
            byte[] out = tail.array();
            // Point the .shstrtab header (in the new table) at the grown copy.
            int shstrAt = (int) (shAt - namesAt) + shstr.index() * shentsize;
            copyInto(out, shstrAt + l.shOffset(), b.encode(namesAt, l.wordSize()));
            copyInto(out, shstrAt + l.shSize(), b.encode(newNames.length, l.wordSize()));
            setSectionHeaderTable(shAt, newCount);
            return out;
        }

        private void writeHeader(ByteBuffer tail, int name, int type, long offset, long size) {
            byte[] h = new byte[l.shentsize()];
            copyInto(h, l.shName(), b.encode(name, 4));
            copyInto(h, l.shType(), b.encode(type, 4));
            copyInto(h, l.shOffset(), b.encode(offset, l.wordSize()));
            copyInto(h, l.shSize(), b.encode(size, l.wordSize()));
            copyInto(h, l.shAddralign(), b.encode(1, l.wordSize()));
            tail.put(h);
        }

        private static void copyInto(byte[] dst, int at, byte[] src) {
            System.arraycopy(src, 0, dst, at, src.length);
        }
    }
}
