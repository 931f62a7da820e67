package org.lkmpre.kernel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import com.github.luben.zstd.Zstd;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.lz4.BlockLZ4CompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;
import org.lkmpre.CappedRead;
import org.lkmpre.internal.Providers;
import org.lkmpre.internal.XzDecoder;
import org.tukaani.xz.LZMAInputStream;
import org.tukaani.xz.SingleXZInputStream;

/** The compression formats the kernel uses for its image, decoded by well-kept libraries. */
final class Decompression {
    /** Largest vmlinux accepted from a compressed image: a guard against decompression bombs. */
    static final long MAX_KERNEL_BYTES = 1L << 30;
    /** Largest embedded kernel configuration accepted. */
    static final long MAX_CONFIG_BYTES = 16L << 20;

    /** A format, the magic bytes that start its stream, and how to open a decoder. */
    enum Format {
        GZIP(new byte[] {0x1f, (byte) 0x8b, 0x08}),
        XZ(new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0}),
        ZSTD(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd}),
        // The kernel's lzma streams use the default properties byte 0x5d and a 64 KiB..
        // dictionary whose size starts with two zero bytes: a weak magic, so it is tried last.
        LZMA(new byte[] {0x5d, 0, 0}),
        LZ4_LEGACY(new byte[] {0x02, 0x21, 0x4c, 0x18}),
        BZIP2(new byte[] {'B', 'Z', 'h'});

        final byte[] magic;

        Format(byte[] magic) {
            this.magic = magic;
        }

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }

        boolean matches(byte[] data, int at) {
            if (at < 0 || at + magic.length > data.length) {
                return false;
            }
            for (int i = 0; i < magic.length; i++) {
                if (data[at + i] != magic[i]) {
                    return false;
                }
            }
            return true;
        }

        InputStream open(byte[] data, int at) throws IOException {
            var in = new ByteArrayInputStream(data, at, data.length - at);
            return switch (this) {
                case GZIP -> new GzipCompressorInputStream(in);
                case XZ -> new SingleXZInputStream(in);
                case ZSTD -> new ZstdCompressorInputStream(new ByteArrayInputStream(data, at, zstdFrameLength(data, at)));
                case LZMA -> new LZMAInputStream(in);
                case LZ4_LEGACY -> new Lz4LegacyInputStream(data, at);
                case BZIP2 -> new BZip2CompressorInputStream(in, false);
            };
        }
    }

    static final List<Format> ALL = List.of(Format.values());

    /**
     * The length of the zstd frame at {@code at}: a zstd decoder reads on into the bytes after
     * the frame (an image's size field) as if they started another frame, so it is given only
     * the frame.
     */
    private static int zstdFrameLength(byte[] data, int at) throws IOException {
        long n;
        try {
            n = Zstd.findFrameCompressedSize(data, at, data.length - at);
        } catch (RuntimeException e) {
            throw new IOException("not a zstd frame: " + e.getMessage(), e);
        }
        if (n <= 0 || n > data.length - at) {
            throw new IOException("not a zstd frame");
        }
        return (int) n;
    }

    private Decompression() {
    }

    /** A binding's xz decoder (the system's liblzma), when one is there and can run. */
    private static final class FastXz {
        static final Optional<XzDecoder> DECODER = Providers.loadable(XzDecoder.class).stream()
                .filter(d -> d.unavailable().isEmpty()).findFirst();
    }

    /**
     * Decodes the xz stream at {@code at} with a binding's decoder, when there is one and it
     * succeeds within {@code cap}; otherwise xz-java does it, and its answer or error stands.
     */
    static Optional<byte[]> fastXz(byte[] data, int at, long cap) {
        return FastXz.DECODER.flatMap(d -> d.decode(data, at, cap));
    }

    /** Reads {@code in} to the end, failing once more than {@code cap} bytes come out. */
    static byte[] readCapped(String file, InputStream in, long cap) throws IOException {
        return CappedRead.readAll(file, in, cap, "decompressed data");
    }

    /**
     * The framing of {@code lz4 -l} (what the kernel's build uses): a magic number, then blocks
     * each preceded by its compressed size; a block is decoded by commons-compress. The stream
     * ends at the end of input, at a size that cannot be a block, or at a block that fails to
     * decode after at least one good block (the image's trailing size field).
     */
    private static final class Lz4LegacyInputStream extends InputStream {
        private static final int MAGIC = 0x184c2102;
        private static final int MAX_BLOCK = 8 << 20;
        private final byte[] data;
        private int pos;
        private byte[] block = new byte[0];
        private int blockPos;
        private boolean done;
        private boolean any;

        Lz4LegacyInputStream(byte[] data, int at) {
            this.data = data;
            this.pos = at + 4;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            while (blockPos == block.length) {
                if (done || !nextBlock()) {
                    done = true;
                    return -1;
                }
            }
            int n = Math.min(len, block.length - blockPos);
            System.arraycopy(block, blockPos, b, off, n);
            blockPos += n;
            return n;
        }

        private boolean nextBlock() throws IOException {
            if (data.length - pos < 4) {
                return false;
            }
            int size = ByteBuffer.wrap(data, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (size == MAGIC) {
                pos += 4;
                return true;
            }
            if (size <= 0 || size > data.length - pos - 4 || size > MAX_BLOCK) {
                return false;
            }
            try (var in = new BlockLZ4CompressorInputStream(new ByteArrayInputStream(data, pos + 4, size))) {
                block = in.readNBytes(MAX_BLOCK + 1);
            } catch (IOException e) {
                if (any) {
                    return false;
                }
                throw e;
            }
            if (block.length > MAX_BLOCK) {
                throw new IOException("lz4 block decodes to more than " + MAX_BLOCK + " bytes");
            }
            blockPos = 0;
            pos += 4 + size;
            any = true;
            return true;
        }
    }
}
