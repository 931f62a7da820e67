package org.lkmpre.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;

/**
 * A compressed kernel image (bzImage, zImage, vmlinuz): the embedded payload is found,
 * decompressed (gzip, xz, zstd, lzma, lz4, bzip2), and read as a {@link Vmlinux}.
 *
 * <p>An x86 bzImage says where its payload is ({@code payload_offset} in the setup header); any
 * other image is searched for each format's magic number, as the kernel's
 * {@code scripts/extract-vmlinux} does, and the first candidate that decompresses to an ELF file
 * wins. Output is capped at 1 GiB. A boot image whose kernel is a raw image, without ELF headers
 * (an ARM64 Image, an ARM zImage, an s390 image, or any image whose payload decompresses to
 * something other than ELF), is named and refused: the export tables are found through the
 * section headers, which such an image lacks.
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
        String file = path.toString();
        byte[] vmlinux = extract(file, KernelSource.readFile(path));
        return Vmlinux.parse(origin(file), vmlinux);
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
        rawImage(image).ifPresent(kind -> {
            throw new InputFormatException(file, "is " + kind + ": its kernel is a raw image" + RAW);
        });
        List<String> tried = new ArrayList<>();
        String raw = null; // the first payload that decompressed to something other than ELF
        for (Decompression.Format f : Decompression.ALL) {
            int found = 0;
            for (int at = ByteSearch.indexOf(image, f.magic, 0, image.length);
                 at >= 0 && found < MAX_CANDIDATES_PER_FORMAT;
                 at = ByteSearch.indexOf(image, f.magic, at + 1, image.length)) {
                found++;
                try {
                    byte[] out = decompress(file, image, at, f, cap);
                    if (ElfFile.hasElfMagic(out)) {
                        return out;
                    }
                    if (raw == null && out.length >= MIN_RAW_IMAGE) {
                        raw = f.label() + " at offset " + at + ", " + out.length + " bytes";
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
        if (raw != null) {
            throw new InputFormatException(file, "is a compressed kernel image whose payload (" + raw + ") is a raw image"
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

    /**
     * Recognizes the boot image formats whose kernel is a raw image by their headers: the ARM64
     * Image (uncompressed; magic {@code ARM\x64} at 0x38), the ARM zImage (magic 0x016f2818 at
     * 0x24, a compressed raw Image inside) and the s390 image ({@code S390EP} at 0x10008).
     *
     * @return what the image is, if it is one of those
     */
    static Optional<String> rawImage(byte[] image) {
        if (startsWith(image, 0x38, new byte[] {'A', 'R', 'M', 0x64})) {
            return Optional.of("an ARM64 Image");
        }
        if (image.length >= 0x28 && ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).getInt(0x24) == 0x016f2818) {
            return Optional.of("an ARM zImage");
        }
        if (startsWith(image, 0x10008, "S390EP".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1))) {
            return Optional.of("an s390 kernel image");
        }
        return Optional.empty();
    }

    private static boolean startsWith(byte[] data, int at, byte[] prefix) {
        return data.length >= at + prefix.length && Arrays.equals(data, at, at + prefix.length, prefix, 0, prefix.length);
    }

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
