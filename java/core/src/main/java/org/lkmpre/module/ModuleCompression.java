package org.lkmpre.module;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.Deflater;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import org.lkmpre.CappedRead;
import org.lkmpre.InputFormatException;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

/**
 * How a module file is compressed ({@code .ko.xz}, {@code .ko.zst}, {@code .ko.gz}, as kmod
 * loads them), with what can be read back of its settings, so that a rewritten module is
 * compressed the same way: the xz integrity check and LZMA2 dictionary size, the gzip level as
 * its header records it (XFL: 2 = best, 4 = fastest). A zstd frame does not record its level;
 * lkmpre uses zstd's default (3), which is what kbuild's {@code zstd -T0} uses.
 *
 * @param format     the format
 * @param level      the level to compress with (gzip 1..9, zstd), 0 where it does not apply
 * @param xzCheck    the xz integrity check type (XZ.CHECK_*), -1 where it does not apply
 * @param xzDictSize the xz LZMA2 dictionary size, 0 where it does not apply
 */
public record ModuleCompression(Format format, int level, int xzCheck, int xzDictSize) {
    /** Largest decompressed module accepted: a guard against decompression bombs. */
    public static final long MAX_MODULE_BYTES = 512L << 20;

    /** The formats kmod reads. */
    public enum Format {
        /** A plain {@code .ko}. */
        NONE,
        /** xz. */
        XZ,
        /** zstd. */
        ZSTD,
        /** gzip. */
        GZIP
    }

    /** An uncompressed module. */
    public static final ModuleCompression NONE = new ModuleCompression(Format.NONE, 0, -1, 0);

    /**
     * Recognizes the compression of module file bytes by their magic number.
     *
     * @param file name for messages
     * @param data the file
     * @return how it is compressed ({@link #NONE} for anything that is not xz, zstd or gzip)
     */
    public static ModuleCompression detect(String file, byte[] data) {
        return switch (format(data, data.length)) {
            case XZ -> xzSettings(file, data);
            case ZSTD -> new ModuleCompression(Format.ZSTD, Zstd.defaultCompressionLevel(), -1, 0);
            case GZIP -> {
                int xfl = data.length > 8 ? data[8] & 0xff : 0;
                int level = xfl == 2 ? Deflater.BEST_COMPRESSION : xfl == 4 ? Deflater.BEST_SPEED : 6;
                yield new ModuleCompression(Format.GZIP, level, -1, 0);
            }
            case NONE -> NONE;
        };
    }

    /** @return the format whose magic number the first {@code length} bytes of {@code data} start with */
    private static Format format(byte[] data, int length) {
        if (startsWith(data, length, 0xfd, '7', 'z', 'X', 'Z', 0)) {
            return Format.XZ;
        }
        if (startsWith(data, length, 0x28, 0xb5, 0x2f, 0xfd)) {
            return Format.ZSTD;
        }
        return startsWith(data, length, 0x1f, 0x8b, 0x08) ? Format.GZIP : Format.NONE;
    }

    /**
     * @param data   holds the file's bytes
     * @param length the file's length
     * @return true if the file starts with none of the compressed formats' magic numbers, so that
     *         {@link #detect} would say {@link Format#NONE}
     */
    public static boolean isPlain(byte[] data, int length) {
        return format(data, length) == Format.NONE;
    }

    private static boolean startsWith(byte[] data, int length, int... magic) {
        if (length < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((data[i] & 0xff) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The check type from the stream header and the dictionary size from the first block's
     * LZMA2 filter properties (xz file format 1.0, sections 2.1.1.2 and 3.1).
     */
    private static ModuleCompression xzSettings(String file, byte[] d) {
        if (d.length < 12 + 8) {
            throw new InputFormatException(file, "xz stream is truncated");
        }
        int check = d[7] & 0x0f;
        int at = 12;
        int headerSize = ((d[at] & 0xff) + 1) * 4;
        if (headerSize < 8 || at + headerSize > d.length) {
            throw new InputFormatException(file, "xz block header is malformed");
        }
        int flags = d[at + 1] & 0xff;
        int p = at + 2;
        for (int present : new int[] {0x40, 0x80}) {
            if ((flags & present) != 0) {
                p = skipVarint(file, d, p, at + headerSize);
            }
        }
        int filters = (flags & 0x03) + 1;
        int dict = 0;
        for (int f = 0; f < filters; f++) {
            long id = readVarint(file, d, p, at + headerSize);
            p = skipVarint(file, d, p, at + headerSize);
            long propsSize = readVarint(file, d, p, at + headerSize);
            p = skipVarint(file, d, p, at + headerSize);
            if (p + propsSize > at + headerSize) {
                throw new InputFormatException(file, "xz filter properties run past the block header");
            }
            if (id == 0x21 && propsSize == 1) {
                int b = d[p] & 0x3f;
                if (b > 40) {
                    throw new InputFormatException(file, "xz LZMA2 dictionary size code " + b + " is invalid");
                }
                dict = b == 40 ? -1 : (2 | (b & 1)) << (b / 2 + 11);
            }
            p += (int) propsSize;
        }
        if (dict == 0) {
            throw new InputFormatException(file, "xz stream has no LZMA2 filter");
        }
        return new ModuleCompression(Format.XZ, LZMA2Options.PRESET_DEFAULT, check, dict);
    }

    private static long readVarint(String file, byte[] d, int p, int end) {
        long v = 0;
        for (int i = 0; i < 9; i++) {
            if (p + i >= end) {
                throw new InputFormatException(file, "xz block header is truncated");
            }
            v |= (long) (d[p + i] & 0x7f) << (7 * i);
            if ((d[p + i] & 0x80) == 0) {
                return v;
            }
        }
        throw new InputFormatException(file, "xz number is too long");
    }

    private static int skipVarint(String file, byte[] d, int p, int end) {
        readVarint(file, d, p, end);
        while ((d[p] & 0x80) != 0) {
            p++;
        }
        return p + 1;
    }

    /** Decompresses module file bytes (returns them as they are for {@link Format#NONE}). */
    public byte[] decompress(String file, byte[] data) {
        return decompress(file, data, MAX_MODULE_BYTES);
    }

    byte[] decompress(String file, byte[] data, long cap) {
        if (format == Format.NONE) {
            return data;
        }
        try (InputStream in = switch (format) {
            case XZ -> new XZInputStream(new ByteArrayInputStream(data));
            case ZSTD -> new ZstdCompressorInputStream(new ByteArrayInputStream(data));
            case GZIP -> new GzipCompressorInputStream(new ByteArrayInputStream(data));
            case NONE -> throw new IllegalStateException();
        }) {
            return CappedRead.readAll(file, in, cap, "decompressed module");
        } catch (IOException | RuntimeException e) {
            if (e instanceof InputFormatException ife) {
                throw ife;
            }
            throw new InputFormatException(file, format.name().toLowerCase(java.util.Locale.ROOT)
                    + " data does not decompress: " + e.getMessage(), e);
        }
    }

    /** Compresses a module the way this compression describes. */
    public byte[] compress(byte[] module) {
        if (format == Format.NONE) {
            return module;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(module.length / 3 + 64);
        try (OutputStream out = open(bytes)) {
            out.write(module);
        } catch (IOException e) {
            throw new IllegalStateException("compressing in memory failed", e);
        }
        return bytes.toByteArray();
    }

    private OutputStream open(OutputStream bytes) throws IOException {
        return switch (format) {
            case XZ -> {
                LZMA2Options options = new LZMA2Options(level);
                options.setDictSize(xzDictSize);
                yield new XZOutputStream(bytes, options, xzCheck);
            }
            case ZSTD -> new ZstdOutputStream(bytes).setLevel(level);
            case GZIP -> {
                GzipParameters p = new GzipParameters();
                p.setCompressionLevel(level);
                // Like gzip -n (kbuild): no name, no time stamp, so the output is reproducible.
                p.setModificationTime(0);
                p.setOperatingSystem(3);
                yield new GzipCompressorOutputStream(bytes, p);
            }
            case NONE -> throw new IllegalStateException();
        };
    }

    /** @return true if {@code file} names a module, compressed or not */
    public static boolean isModuleName(String file) {
        return file.endsWith(".ko") || file.endsWith(".ko.xz") || file.endsWith(".ko.zst") || file.endsWith(".ko.gz");
    }
}
