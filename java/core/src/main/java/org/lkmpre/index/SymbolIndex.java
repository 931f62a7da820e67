package org.lkmpre.index;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.lkmpre.InputFormatException;
import org.lkmpre.kernel.ExportKind;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelConfig;
import org.lkmpre.kernel.KernelIdentity;
import org.lkmpre.kernel.KernelSymbols;

/**
 * A validated export index (docs/index-format.md) and the five lookups over it, the same as the
 * C core's: linear scan, binary search, SysV hash, GNU hash, GNU hash behind the Bloom filter.
 * Immutable and safe to share between threads (pass each thread its own {@link LookupStats}).
 */
public final class SymbolIndex {
    private final String file;
    private final byte[] data;
    private final ByteBuffer in;
    private final KernelIndex.Geometry g;
    private final int flags;
    private final int machine;

    private SymbolIndex(String file, byte[] data, ByteBuffer in, KernelIndex.Geometry g, int flags, int machine) {
        this.file = file;
        this.data = data;
        this.in = in;
        this.g = g;
        this.flags = flags;
        this.machine = machine;
    }

    /**
     * Validates index bytes: header, geometry, every string reference, bucket and chain value.
     *
     * @param file name for messages
     * @param data the index; not copied, must not change afterwards
     * @return the index
     * @throws InputFormatException if the bytes are not a valid index
     */
    public static SymbolIndex open(String file, byte[] data) {
        ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (data.length < KernelIndex.HEADER_SIZE || !Arrays.equals(data, 0, 8, KernelIndex.MAGIC, 0, 8)) {
            throw new InputFormatException(file, "not an lkmpre index (bad magic)");
        }
        if (in.getInt(8) != KernelIndex.VERSION) {
            throw new InputFormatException(file, "index version " + in.getInt(8) + ", expected " + KernelIndex.VERSION);
        }
        int flags = in.getInt(12);
        int nsyms = in.getInt(20);
        if (nsyms <= 0 || nsyms > data.length / KernelIndex.ENTRY_SIZE) {
            throw new InputFormatException(file, "index symbol count " + Integer.toUnsignedString(nsyms) + " does not fit its size");
        }
        int stringsSize = in.getInt(44);
        KernelIndex.Geometry g = stringsSize <= 0 || stringsSize > data.length ? null
                : KernelIndex.Geometry.of(nsyms - 1, (flags & KernelIndex.FLAG_ELF64) != 0, stringsSize);
        if (g == null || g.total() != data.length || in.getInt(56) != g.total() || in.getInt(24) != g.gnuBuckets()
                || in.getInt(28) != KernelIndex.SYMOFFSET || in.getInt(32) != g.bloomWords()
                || in.getInt(36) != KernelIndex.BLOOM_SHIFT2 || in.getInt(40) != g.sysvBuckets()) {
            throw new InputFormatException(file, "index geometry does not match its header");
        }
        SymbolIndex x = new SymbolIndex(file, data, in, g, flags, in.getInt(16));
        if (data[g.stringsAt()] != 0 || data[g.stringsAt() + stringsSize - 1] != 0) {
            throw new InputFormatException(file, "index string table is not NUL-delimited");
        }
        int n = g.n();
        for (int e = 1; e <= n; e++) {
            x.string(x.entry(e) + 8);
            x.string(x.entry(e) + 12);
        }
        for (int b = 0; b < g.gnuBuckets(); b++) {
            int v = in.getInt(g.gnuBucketsAt() + 4 * b);
            if (v != 0 && (v < KernelIndex.SYMOFFSET || v > n)) {
                throw new InputFormatException(file, "index GNU bucket " + b + " out of range");
            }
        }
        for (int b = 0; b < g.sysvBuckets(); b++) {
            x.checkEntry(in.getInt(g.sysvBucketsAt() + 4 * b), true, "SysV bucket");
        }
        for (int e = 0; e <= n; e++) {
            x.checkEntry(in.getInt(g.sysvChainAt() + 4 * e), true, "SysV chain");
        }
        for (int k = 0; k < n; k++) {
            x.checkEntry(in.getInt(g.sortedAt() + 4 * k), false, "sorted entry");
        }
        for (int identity : new int[] {48, 52}) { // banner and build ID: table offset + 1, or 0 for none
            int ref = in.getInt(identity);
            if (ref != 0) {
                x.stringAt(ref - 1);
            }
        }
        return x;
    }

    private void checkEntry(int v, boolean zeroOk, String what) {
        if (v < (zeroOk ? 0 : 1) || v > g.n()) {
            throw new InputFormatException(file, "index " + what + " " + Integer.toUnsignedString(v) + " out of range");
        }
    }

    private int entry(int e) {
        return g.entriesAt() + e * KernelIndex.ENTRY_SIZE;
    }

    /** The string whose table offset is stored at {@code at}, checked to lie in the table. */
    private String string(int at) {
        return stringAt(in.getInt(at));
    }

    private String stringAt(int offset) {
        if (offset < 0 || offset >= g.stringsSize()) {
            throw new InputFormatException(file, "index string offset " + Integer.toUnsignedString(offset) + " outside the table");
        }
        int start = g.stringsAt() + offset;
        int end = start;
        int limit = g.stringsAt() + g.stringsSize();
        while (end < limit && data[end] != 0) {
            end++;
        }
        if (end == limit) {
            throw new InputFormatException(file, "index string at " + offset + " is not NUL-terminated");
        }
        return new String(data, start, end - start, StandardCharsets.ISO_8859_1);
    }

    /** @return how many exports the index holds */
    public int count() {
        return g.n();
    }

    /** @return the entry's name (entry 1..count) */
    public String name(int e) {
        return string(entry(e) + 8);
    }

    /** @return the export table the index holds, in entry order, with identity and KASLR setting */
    public KernelSymbols kernel() {
        int banner = in.getInt(48);
        int buildId = in.getInt(52);
        KernelIdentity id = new KernelIdentity(banner == 0 ? Optional.empty() : Optional.of(stringAt(banner - 1)),
                buildId == 0 ? Optional.empty() : Optional.of(stringAt(buildId - 1)));
        Optional<KernelConfig> config = (flags & KernelIndex.FLAG_CONFIG) == 0 ? Optional.empty()
                : Optional.of(new KernelConfig("index " + file,
                        (flags & KernelIndex.FLAG_KASLR) != 0 ? Map.of("RANDOMIZE_BASE", "y") : Map.of()));
        return KernelSymbols.ofIndex(file, data, this::exports, id, config, g.word(), machine);
    }

    /** @return the exports, in entry order (the entries were checked when the index was opened) */
    private List<ExportedSymbol> exports() {
        List<ExportedSymbol> exports = new ArrayList<>(g.n());
        for (int e = 1; e <= g.n(); e++) {
            int at = entry(e);
            int entryFlags = in.getInt(at + 20);
            OptionalLong crc = (entryFlags & KernelIndex.EXPORT_CRC) != 0
                    ? OptionalLong.of(Integer.toUnsignedLong(in.getInt(at + 16))) : OptionalLong.empty();
            exports.add(new ExportedSymbol(name(e), in.getLong(at), crc,
                    (entryFlags & KernelIndex.EXPORT_GPL) != 0 ? ExportKind.EXPORT_SYMBOL_GPL : ExportKind.EXPORT_SYMBOL,
                    string(at + 12), (entryFlags & KernelIndex.EXPORT_OUTSIDE_KERNEL) != 0));
        }
        return exports;
    }

    /**
     * Looks a name up.
     *
     * @param name     the name's bytes (ISO-8859-1)
     * @param strategy how
     * @param stats    counters to add to, or null
     * @return the entry (1..count), or 0 if the index has no such export
     */
    public int lookup(byte[] name, Strategy strategy, LookupStats stats) {
        int h = hashFor(strategy, name, 0, name.length);
        return probe(name, 0, name.length, h, strategy, strategy != Strategy.GNU_BLOOM || bloomMayContain(h), stats);
    }

    /**
     * GNU lookup with a hash computed earlier (the ST loader's optimization: modules carry the
     * hash of each undefined symbol).
     *
     * @param name    the name's bytes
     * @param gnuHash {@link KernelIndex#gnuHash} of the name
     * @param bloom   test the Bloom filter first
     * @param stats   counters to add to, or null
     * @return the entry, or 0
     */
    public int lookupHashed(byte[] name, int gnuHash, boolean bloom, LookupStats stats) {
        return probe(name, 0, name.length, gnuHash, bloom ? Strategy.GNU_BLOOM : Strategy.GNU,
                !bloom || bloomMayContain(gnuHash), stats);
    }

    /** The hash a strategy uses: SysV for SYSV, GNU for the GNU ones, none for the others. */
    static int hashFor(Strategy strategy, byte[] b, int off, int len) {
        return switch (strategy) {
            case SYSV -> KernelIndex.sysvHash(b, off, len);
            case GNU, GNU_BLOOM -> KernelIndex.gnuHash(b, off, len);
            case LINEAR, BSEARCH -> 0;
        };
    }

    /**
     * One probe of this table for {@code b[off .. off + len)} with its hash already computed.
     * For GNU + Bloom the caller has tested the Bloom filter ({@code maybe}: it may hold the
     * name), from this table or from a copy of its word, as the C core's {@code probe}.
     */
    int probe(byte[] b, int off, int len, int h, Strategy strategy, boolean maybe, LookupStats stats) {
        if (stats != null) {
            stats.lookups++;
        }
        return switch (strategy) {
            case LINEAR -> linear(b, off, len, stats);
            case BSEARCH -> bsearch(b, off, len, stats);
            case SYSV -> sysv(b, off, len, h, stats);
            case GNU -> gnu(b, off, len, h, stats);
            case GNU_BLOOM -> maybe ? gnu(b, off, len, h, stats) : bloomRejected(stats);
        };
    }

    /** Compares entry e's name with the query: negative, zero or positive, as unsigned bytes. */
    private int compare(int e, byte[] b, int off, int len, LookupStats stats) {
        if (stats != null) {
            stats.stringCompares++;
        }
        int s = g.stringsAt() + in.getInt(entry(e) + 8);
        for (int i = 0; i < len; i++) {
            int c = data[s + i] & 0xff;
            int q = b[off + i] & 0xff;
            if (c == 0 || c != q) {
                return c == 0 || c < q ? -1 : 1;
            }
        }
        return data[s + len] != 0 ? 1 : 0;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /**
     * Whether entry e's name is the query: {@code compare(...) == 0}, eight bytes a step, as the
     * C core's {@code name_is} (the hash lookups need equality only). The string table ends the
     * index, so a name of len bytes and its NUL lie within what is left after it.
     */
    private boolean nameIs(int e, byte[] b, int off, int len, LookupStats stats) {
        if (stats != null) {
            stats.stringCompares++;
        }
        int s = g.stringsAt() + in.getInt(entry(e) + 8);
        if (len >= data.length - s) {
            return false;
        }
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            long w = (long) LONGS.get(data, s + i);
            if (w != (long) LONGS.get(b, off + i) || ((w - ONES) & ~w & HIGHS) != 0) {
                return false;
            }
        }
        for (; i < len; i++) {
            if (data[s + i] == 0 || data[s + i] != b[off + i]) {
                return false;
            }
        }
        return data[s + len] == 0;
    }

    private int linear(byte[] b, int off, int len, LookupStats stats) {
        for (int e = 1; e <= g.n(); e++) {
            if (nameIs(e, b, off, len, stats)) {
                return e;
            }
        }
        return 0;
    }

    private int bsearch(byte[] b, int off, int len, LookupStats stats) {
        int lo = 0;
        int hi = g.n();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (compare(in.getInt(g.sortedAt() + 4 * mid), b, off, len, stats) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo < g.n()) {
            int e = in.getInt(g.sortedAt() + 4 * lo);
            return compare(e, b, off, len, stats) == 0 ? e : 0;
        }
        return 0;
    }

    private int sysv(byte[] b, int off, int len, int h, LookupStats stats) {
        int e = in.getInt(g.sysvBucketsAt() + 4 * Integer.remainderUnsigned(h, g.sysvBuckets()));
        // A chain visits each entry at most once; a longer walk means a cycle in a hostile index.
        for (int steps = 0; e != 0 && steps <= g.n(); steps++) {
            if (stats != null) {
                stats.chainSteps++;
            }
            if (nameIs(e, b, off, len, stats)) {
                return e;
            }
            e = in.getInt(g.sysvChainAt() + 4 * e);
        }
        return 0;
    }

    /** @return bits per Bloom word, as a power of two: 5 or 6 */
    int wordLog2() {
        return g.word() == 8 ? 6 : 5;
    }

    /** @return how many words the Bloom filter has */
    int bloomWords() {
        return g.bloomWords();
    }

    /** @return the Bloom word a hash selects, widened to 64 bits */
    long bloomWord(int h) {
        int at = g.bloomAt() + ((h >>> wordLog2()) & (g.bloomWords() - 1)) * g.word();
        return g.word() == 8 ? in.getLong(at) : Integer.toUnsignedLong(in.getInt(at));
    }

    /** glibc's test: the two bits the hash selects in a Bloom word must both be set. */
    static boolean bloomWordMayContain(long w, int log2, int h) {
        int mask = (1 << log2) - 1;
        return ((w >>> (h & mask)) & (w >>> ((h >>> KernelIndex.BLOOM_SHIFT2) & mask)) & 1) != 0;
    }

    boolean bloomMayContain(int h) {
        return bloomWordMayContain(bloomWord(h), wordLog2(), h);
    }

    private static int bloomRejected(LookupStats stats) {
        if (stats != null) {
            stats.bloomRejections++;
        }
        return 0;
    }

    /** The GNU hash table walk, the Bloom filter already passed; counts chain steps and compares, not the probe. */
    int gnu(byte[] b, int off, int len, int h, LookupStats stats) {
        int e = in.getInt(g.gnuBucketsAt() + 4 * Integer.remainderUnsigned(h, g.gnuBuckets()));
        if (e == 0) {
            return 0;
        }
        for (int h1 = h | 1; e <= g.n(); e++) {
            int c = in.getInt(g.gnuChainAt() + 4 * (e - KernelIndex.SYMOFFSET));
            if (stats != null) {
                stats.chainSteps++;
            }
            if (h1 == (c | 1) && nameIs(e, b, off, len, stats)) {
                return e;
            }
            if ((c & 1) != 0) {
                break;
            }
        }
        return 0;
    }
}
