package org.lkmpre.index;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import java.util.List;
import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelSymbols;

/**
 * The serialized export index ({@code .lkmidx}, docs/index-format.md): the kernel's exports
 * with GNU hash + Bloom filter, SysV hash and sorted-name tables, written once and read by every
 * backend. The C core ({@code lkmpre_index_build}) writes the same bytes for the same kernel.
 */
public final class KernelIndex {
    static final byte[] MAGIC = {'L', 'K', 'M', 'P', 'I', 'D', 'X', 0};
    /** 2: entry flag 0x4 (the address guard); a version 1 index was built without the guard. */
    static final int VERSION = 2;
    static final int FLAG_ELF64 = 0x1;
    static final int FLAG_CRCS = 0x2;
    static final int FLAG_KASLR = 0x4;
    static final int FLAG_CONFIG = 0x8;
    static final int EXPORT_CRC = 0x1;
    static final int EXPORT_GPL = 0x2;
    static final int EXPORT_OUTSIDE_KERNEL = 0x4;
    static final int HEADER_SIZE = 64;
    static final int ENTRY_SIZE = 24;
    /** lld: 12 Bloom bits per symbol, rounded up to a power of two of words. */
    static final int BLOOM_BITS_PER_SYMBOL = 12;
    /** lld and GNU ld both shift the second Bloom hash by 26. */
    static final int BLOOM_SHIFT2 = 26;
    /** Entry 0 is the null entry, outside the GNU hash table, as STN_UNDEF is in ELF. */
    static final int SYMOFFSET = 1;
    /** GNU ld's SysV bucket counts (bfd/elflink.c). */
    private static final int[] SYSV_SIZES = {1, 3, 17, 37, 67, 97, 131, 197, 263, 521, 1031, 2053, 4099, 8209, 16411,
        32771, 65537, 131101, 262147};

    private KernelIndex() {
    }

    /** GNU hash ({@code h = h * 33 + c}, from 5381) of a name's bytes. */
    public static int gnuHash(byte[] name) {
        return gnuHash(name, 0, name.length);
    }

    /** GNU hash of {@code b[off .. off + len)}. */
    public static int gnuHash(byte[] b, int off, int len) {
        int h = 5381;
        for (int i = off; i < off + len; i++) {
            h = h * 33 + (b[i] & 0xff);
        }
        return h;
    }

    /** SysV ELF hash of a name's bytes. */
    public static int sysvHash(byte[] name) {
        return sysvHash(name, 0, name.length);
    }

    /** SysV ELF hash of {@code b[off .. off + len)}. */
    public static int sysvHash(byte[] b, int off, int len) {
        int h = 0;
        for (int i = off; i < off + len; i++) {
            h = (h << 4) + (b[i] & 0xff);
            h ^= (h >>> 24) & 0xf0;
        }
        return h & 0x0fffffff;
    }

    /** Sizes and offsets of every part of an index with {@code n} exports. */
    record Geometry(int n, int gnuBuckets, int bloomWords, int sysvBuckets, int word, int stringsSize, int entriesAt,
                    int bloomAt, int gnuBucketsAt, int gnuChainAt, int sysvBucketsAt, int sysvChainAt, int sortedAt,
                    int stringsAt, int total) {
        static Geometry of(int n, boolean is64, int stringsSize) {
            // lld: a quarter as many buckets as symbols, at least one (loaders reject empty tables).
            int gnuBuckets = Math.max(n / 4, 1);
            int word = is64 ? 8 : 4;
            long bits = (long) n * BLOOM_BITS_PER_SYMBOL / (word * 8L);
            int bloomWords = 1;
            while (bloomWords <= bits) {
                bloomWords <<= 1;
            }
            int sysv = 1;
            for (int i = 0; i < SYSV_SIZES.length; i++) {
                sysv = SYSV_SIZES[i];
                if (i + 1 == SYSV_SIZES.length || n < SYSV_SIZES[i + 1]) {
                    break;
                }
            }
            long entriesAt = HEADER_SIZE;
            long bloomAt = entriesAt + (long) (n + 1) * ENTRY_SIZE;
            long gnuBucketsAt = bloomAt + (long) bloomWords * word;
            long gnuChainAt = gnuBucketsAt + 4L * gnuBuckets;
            long sysvBucketsAt = gnuChainAt + 4L * n;
            long sysvChainAt = sysvBucketsAt + 4L * sysv;
            long sortedAt = sysvChainAt + 4L * (n + 1);
            long stringsAt = sortedAt + 4L * n;
            long total = (stringsAt + stringsSize + 7) & ~7L;
            return new Geometry(n, gnuBuckets, bloomWords, sysv, word, stringsSize, (int) entriesAt, (int) bloomAt,
                    (int) gnuBucketsAt, (int) gnuChainAt, (int) sysvBucketsAt, (int) sysvChainAt, (int) sortedAt,
                    (int) stringsAt, Math.toIntExact(total));
        }
    }

    /**
     * Writes the index of a kernel's export table.
     *
     * @param kernel the export table; its configuration, if known, sets the KASLR flag
     * @return the index bytes
     */
    public static byte[] write(KernelSymbols kernel) {
        List<ExportedSymbol> exports = kernel.exports();
        int n = exports.size();
        byte[][] names = new byte[n][];
        int[] hash = new int[n];
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            names[i] = exports.get(i).name().getBytes(StandardCharsets.ISO_8859_1);
            hash[i] = gnuHash(names[i]);
            order[i] = i;
        }
        boolean is64 = kernel.wordSize() == 8;
        Optional<byte[]> banner = kernel.identity().banner().map(b -> b.getBytes(StandardCharsets.ISO_8859_1));
        Optional<byte[]> buildId = kernel.identity().buildId().map(b -> b.getBytes(StandardCharsets.ISO_8859_1));
        int stringsSize = 1;
        for (int i = 0; i < n; i++) {
            stringsSize += names[i].length + 1;
            String ns = exports.get(i).namespace();
            stringsSize += ns.isEmpty() ? 0 : ns.length() + 1;
        }
        stringsSize += banner.map(b -> b.length + 1).orElse(0) + buildId.map(b -> b.length + 1).orElse(0);
        Geometry g = Geometry.of(n, is64, stringsSize);
        // GNU hash needs each bucket's symbols together; keep table order within a bucket so the
        // first export of a name (__ksymtab before __ksymtab_gpl) is found first.
        Arrays.sort(order, (a, b) -> {
            int c = Integer.compareUnsigned(Integer.remainderUnsigned(hash[a], g.gnuBuckets()),
                    Integer.remainderUnsigned(hash[b], g.gnuBuckets()));
            return c != 0 ? c : Integer.compare(a, b);
        });
        ByteBuffer out = ByteBuffer.allocate(g.total()).order(ByteOrder.LITTLE_ENDIAN);
        int at = 1;
        for (int k = 0; k < n; k++) {
            ExportedSymbol x = exports.get(order[k]);
            int e = g.entriesAt() + (k + 1) * ENTRY_SIZE;
            out.putLong(e, x.address());
            out.putInt(e + 8, at);
            at = putString(out, g.stringsAt() + at, names[order[k]]) - g.stringsAt();
            if (!x.namespace().isEmpty()) {
                out.putInt(e + 12, at);
                at = putString(out, g.stringsAt() + at, x.namespace().getBytes(StandardCharsets.ISO_8859_1)) - g.stringsAt();
            }
            out.putInt(e + 16, (int) x.crc().orElse(0));
            out.putInt(e + 20, (x.crc().isPresent() ? EXPORT_CRC : 0) | (x.kind().gplOnly() ? EXPORT_GPL : 0)
                    | (x.outsideKernel() ? EXPORT_OUTSIDE_KERNEL : 0));
        }
        int bannerRef = 0;
        int buildIdRef = 0;
        if (banner.isPresent()) {
            bannerRef = at + 1;
            at = putString(out, g.stringsAt() + at, banner.get()) - g.stringsAt();
        }
        if (buildId.isPresent()) {
            buildIdRef = at + 1;
            putString(out, g.stringsAt() + at, buildId.get());
        }
        long bits = g.word() * 8L;
        for (int k = 0; k < n; k++) {
            long h = Integer.toUnsignedLong(hash[order[k]]);
            int w = g.bloomAt() + (int) ((h / bits) & (g.bloomWords() - 1)) * g.word();
            long mask = (1L << (h % bits)) | (1L << ((h >>> BLOOM_SHIFT2) % bits));
            if (is64) {
                out.putLong(w, out.getLong(w) | mask);
            } else {
                out.putInt(w, out.getInt(w) | (int) mask);
            }
            int bucket = (int) (h % g.gnuBuckets());
            int b = g.gnuBucketsAt() + 4 * bucket;
            if (out.getInt(b) == 0) {
                out.putInt(b, k + SYMOFFSET);
            }
            boolean last = k + 1 == n || Integer.remainderUnsigned(hash[order[k + 1]], g.gnuBuckets()) != bucket;
            out.putInt(g.gnuChainAt() + 4 * k, (hash[order[k]] & ~1) | (last ? 1 : 0));
        }
        // SysV: insert from the end so each chain visits entries in ascending order.
        for (int k = n; k >= 1; k--) {
            int bucket = sysvHash(names[order[k - 1]]) % g.sysvBuckets();
            int b = g.sysvBucketsAt() + 4 * bucket;
            out.putInt(g.sysvChainAt() + 4 * k, out.getInt(b));
            out.putInt(b, k);
        }
        Integer[] sorted = new Integer[n];
        for (int k = 0; k < n; k++) {
            sorted[k] = k;
        }
        Arrays.sort(sorted, (a, b) -> {
            int c = Arrays.compareUnsigned(names[order[a]], names[order[b]]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        for (int k = 0; k < n; k++) {
            out.putInt(g.sortedAt() + 4 * k, sorted[k] + SYMOFFSET);
        }
        int flags = (is64 ? FLAG_ELF64 : 0) | (kernel.hasCrcs() ? FLAG_CRCS : 0);
        if (kernel.config().isPresent()) {
            flags |= FLAG_CONFIG | (kernel.config().get().randomizesBase() ? FLAG_KASLR : 0);
        }
        out.put(0, MAGIC);
        out.putInt(8, VERSION).putInt(12, flags).putInt(16, kernel.machine()).putInt(20, n + 1)
                .putInt(24, g.gnuBuckets()).putInt(28, SYMOFFSET).putInt(32, g.bloomWords()).putInt(36, BLOOM_SHIFT2)
                .putInt(40, g.sysvBuckets()).putInt(44, g.stringsSize()).putInt(48, bannerRef).putInt(52, buildIdRef)
                .putInt(56, g.total());
        return out.array();
    }

    private static int putString(ByteBuffer out, int at, byte[] s) {
        out.put(at, s);
        out.put(at + s.length, (byte) 0);
        return at + s.length + 1;
    }

    /**
     * Reads an index back into an export table (in the index's entry order).
     *
     * @param file name for messages
     * @param data the index bytes
     * @return the export table, identity, word size, machine, and the KASLR setting as config
     * @throws InputFormatException if the bytes are not a valid index
     */
    public static KernelSymbols read(String file, byte[] data) {
        return SymbolIndex.open(file, data).kernel();
    }
}
