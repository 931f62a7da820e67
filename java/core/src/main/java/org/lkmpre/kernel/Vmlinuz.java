package org.lkmpre.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;

/**
 * A kernel image as a boot loader takes it (bzImage, zImage, vmlinuz, an ARM64 Image): the
 * embedded payload is found, decompressed (gzip, xz, zstd, lzma, lz4, bzip2), and read as a
 * {@link Vmlinux}, or as a raw kernel where the image holds one.
 *
 * <p>An x86 bzImage says where its payload is ({@code payload_offset} in the setup header); any
 * other image is searched for each format's magic number, as the kernel's
 * {@code scripts/extract-vmlinux} does, and the first candidate that decompresses to an ELF file
 * wins. Output is capped at 1 GiB. The kernel of an ARM64 Image (uncompressed), an ARM zImage
 * or an s390 image (the first payload of at least 1 MiB) is raw code and data without ELF
 * headers, whose export tables {@link RawImage} finds by their structure; any other image whose
 * payload decompresses to something other than ELF is refused with what to give instead.
 *
 * @param path the compressed image
 */
public record Vmlinuz(Path path) implements KernelSource {
    /** Candidates tried per format when scanning: enough for real images, bounded for hostile ones. */
    private static final int MAX_CANDIDATES_PER_FORMAT = 64;

    @Override
    public Path primaryFile() {
        return path;
    }

    @Override
    public KernelSymbols read() throws IOException {
        return parse(path.toString(), KernelSource.readFile(path));
    }

    /**
     * Reads the export table of a kernel image: its ELF payload as a {@link Vmlinux}, or its raw
     * kernel through {@link RawImage}.
     *
     * @param file name for messages
     * @param image the image's bytes
     * @return the exports, identity and embedded configuration (if any)
     * @throws InputFormatException if no payload can be read
     */
    public static KernelSymbols parse(String file, byte[] image) {
        Optional<RawImage.Kind> raw = RawImage.Kind.of(image);
        if (raw.isPresent() && raw.get() == RawImage.Kind.ARM64_IMAGE) {
            return RawImage.read(file, raw.get(), image, image);
        }
        byte[] payload = payload(file, image, Decompression.MAX_KERNEL_BYTES, raw.isPresent());
        return ElfFile.hasElfMagic(payload) ? Vmlinux.parse(origin(file), payload)
                : RawImage.read(file, raw.get(), image, payload);
    }

    /** @return how the export table of the image {@code file} names where it was read */
    static String origin(String file) {
        return file + " (decompressed payload)";
    }

    /**
     * Extracts the vmlinux ELF image from compressed kernel image bytes.
     *
     * @param file name for messages
     * @param image the compressed kernel image
     * @return the decompressed ELF image
     * @throws InputFormatException if no payload decompresses to an ELF image
     */
    public static byte[] extract(String file, byte[] image) {
        return extract(file, image, Decompression.MAX_KERNEL_BYTES);
    }

    static byte[] extract(String file, byte[] image, long cap) {
        return payload(file, image, cap, false);
    }

    /**
     * @param raw true to take the first payload of at least 1 MiB that is not ELF (a raw kernel)
     *            when no ELF payload comes before it; false to refuse a raw kernel
     * @return the payload
     */
    private static byte[] payload(String file, byte[] image, long cap, boolean raw) {
        int bz = bzImagePayload(image);
        if (bz >= 0) {
            for (Decompression.Format f : Decompression.ALL) {
                if (f.matches(image, bz)) {
                    byte[] out = decompress(file, image, bz, f, cap);
                    if (!ElfFile.hasElfMagic(out)) {
                        throw new InputFormatException(file, "bzImage payload (" + f.label() + ") is not an ELF image");
                    }
                    return out;
                }
            }
        }
        if (!raw) {
            RawImage.Kind.of(image).ifPresent(kind -> {
                throw new InputFormatException(file, "is " + kind.label + ": its kernel is a raw image, with no vmlinux"
                        + " to extract (lkmpre reads its exports from the image itself; a vmlinux comes from the"
                        + " kernel's -dbg package or build tree)");
            });
        }
        List<String> tried = new ArrayList<>();
        String other = null; // the first payload that decompressed to something other than ELF
        for (Decompression.Format f : Decompression.ALL) {
            int found = 0;
            for (int at = ByteSearch.indexOf(image, f.magic, 0, image.length);
                 at >= 0 && found < MAX_CANDIDATES_PER_FORMAT;
                 at = ByteSearch.indexOf(image, f.magic, at + 1, image.length)) {
                found++;
                try {
                    byte[] out = decompress(file, image, at, f, cap);
                    if (ElfFile.hasElfMagic(out) || (raw && out.length >= MIN_RAW_IMAGE)) {
                        return out;
                    }
                    if (other == null && out.length >= MIN_RAW_IMAGE) {
                        other = f.label() + " at offset " + at + ", " + out.length + " bytes";
                    }
                } catch (InputFormatException e) {
                    if (e.reason().startsWith("decompressed data exceeds")) {
                        throw e;
                    }
                }
            }
            if (found > 0) {
                tried.add(f.label() + " x" + found);
            }
        }
        if (other != null) {
            throw new InputFormatException(file, "is a compressed kernel image whose payload (" + other + ") is a raw image"
                    + RAW);
        }
        throw new InputFormatException(file, "no compressed vmlinux payload found"
                + (tried.isEmpty() ? " (no gzip, xz, zstd, lzma, lz4 or bzip2 stream)" : " (tried " + String.join(", ", tried) + ")"));
    }

    /** What a kernel image of raw (not ELF) code and data lacks, and what to give instead. */
    private static final String RAW = " without ELF section headers, through which lkmpre finds the export tables;"
            + " give the vmlinux of the kernel's -dbg package or build tree";
    /** A decompressed payload smaller than this is not taken for a kernel (a stray match in the boot code). */
    private static final int MIN_RAW_IMAGE = 1 << 20;

    /** @return the payload offset of an x86 bzImage (boot protocol 2.08+), or -1 */
    private static int bzImagePayload(byte[] image) {
        if (image.length < 0x250 || image[0x202] != 'H' || image[0x203] != 'd' || image[0x204] != 'r'
                || image[0x205] != 'S') {
            return -1;
        }
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.getShort(0x206) & 0xffff;
        if (version < 0x208) {
            return -1;
        }
        int setupSects = image[0x1f1] & 0xff;
        // A zero setup_sects means 4, for compatibility with old boot loaders.
        long base = (long) ((setupSects == 0 ? 4 : setupSects) + 1) * 512;
        long at = base + (b.getInt(0x248) & 0xffff_ffffL);
        return at < image.length ? (int) at : -1;
    }

    private static byte[] decompress(String file, byte[] image, int at, Decompression.Format f, long cap) {
        Optional<byte[]> fast = f == Decompression.Format.XZ ? Decompression.fastXz(image, at, cap) : Optional.empty();
        if (fast.isPresent()) {
            return fast.get();
        }
        try (InputStream in = f.open(image, at)) {
            return Decompression.readCapped(file, in, cap);
        } catch (IOException | RuntimeException e) {
            if (e instanceof InputFormatException ife) {
                throw ife;
            }
            throw new InputFormatException(file, f.label() + " payload at offset " + at + " does not decompress: "
                    + e.getMessage(), e);
        }
    }
}
