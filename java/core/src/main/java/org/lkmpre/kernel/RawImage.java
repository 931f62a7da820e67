package org.lkmpre.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;
import org.lkmpre.InputFormatException;

/**
 * A kernel of raw code and data, without ELF headers: an ARM64 Image, or the payload of an ARM
 * zImage or of an s390 image. Its export tables are found by their structure, since no symbol
 * names them (none of Debian's kernels enables {@code KALLSYMS_ALL}); every step checks what the
 * kernel's own layout guarantees, and any doubt refuses the image rather than guess:
 *
 * <ol>
 *   <li>{@code __ksymtab_strings} is one of the largest runs of NUL-terminated identifiers (BTF's
 *       string table may be larger), tried in turn;</li>
 *   <li>{@code __ksymtab} and {@code __ksymtab_gpl} are the longest run, before it, of entries
 *       whose name (and namespace, if any) points into it: PREL32 entries point by their own
 *       place, absolute ones through the link address, which is one under which the words
 *       before the strings point at most of its strings;</li>
 *   <li>the first string pointed at starts the strings, and what lies between the entries and
 *       it must be one CRC per entry ({@code __kcrctab}, {@code __kcrctab_gpl}) or nothing;</li>
 *   <li>each table is sorted by name (the kernel searches them by bisection), so the names rise
 *       strictly but once, where {@code __ksymtab_gpl} begins: there must be exactly one such
 *       place.</li>
 * </ol>
 *
 * <p>PREL32 values need the link address too: an ARM64 Image's comes from its
 * {@code R_AARCH64_RELATIVE} relocations ({@link Arm64Image}). An s390 kernel is first relocated as its boot code would ({@link S390Boot}),
 * which also gives its link address. The address guard takes the image, with its {@code .bss} as
 * the boot header gives it, as the kernel's extent (docs/design.md, "Raw kernels").
 */
final class RawImage {
    /** The strings block holds thousands of names; a run shorter than this is not one. */
    private static final int MIN_STRINGS = 16;
    /** How far before the strings the export tables are sought: twenty times Debian's largest (arm64, 175 KiB). */
    private static final int WINDOW = 4 << 20;
    /**
     * Link-address votes: strings, spread evenly over the block, tried per candidate, and how
     * many must be pointed at. Spread, because words before the strings that count up (arrays of
     * small numbers) would point at strings close together under many a wrong address.
     */
    private static final int VOTERS = 32;
    private static final int VOTES_NEEDED = 28;
    /** The first strings of a block may be bytes of the CRC table before it: they do not vote. */
    private static final int VOTERS_FROM = 8;
    /** Blocks of identifiers tried, largest first (BTF's string table can be larger than the names). */
    private static final int BLOCKS_TRIED = 8;

    /** The boot image formats whose kernel is raw, with what each fixes about it. */
    enum Kind {
        /** arm64's {@code Image}: uncompressed, magic {@code ARM\x64} at 0x38, PREL32 tables. */
        ARM64_IMAGE("an ARM64 Image", 183, 8, ByteOrder.LITTLE_ENDIAN, List.of(Vmlinux.Layout.PREL32)),
        /** arm's {@code zImage}: magic 0x016f2818 at 0x24, a compressed raw Image with absolute tables. */
        ARM_ZIMAGE("an ARM zImage", 40, 4, ByteOrder.LITTLE_ENDIAN,
                List.of(Vmlinux.Layout.ABSOLUTE_WITH_NAMESPACE, Vmlinux.Layout.ABSOLUTE)),
        /** s390's image: {@code S390EP} at 0x10008, a compressed raw image with absolute tables. */
        S390_IMAGE("an s390 kernel image", 22, 8, ByteOrder.BIG_ENDIAN,
                List.of(Vmlinux.Layout.ABSOLUTE_WITH_NAMESPACE, Vmlinux.Layout.ABSOLUTE));

        final String label;
        final int machine;
        final int wordSize;
        final ByteOrder order;
        final List<Vmlinux.Layout> layouts;

        Kind(String label, int machine, int wordSize, ByteOrder order, List<Vmlinux.Layout> layouts) {
            this.label = label;
            this.machine = machine;
            this.wordSize = wordSize;
            this.order = order;
            this.layouts = layouts;
        }

        /** @return the kind of boot image {@code image} is, recognized by its header */
        static Optional<Kind> of(byte[] image) {
            if (startsWith(image, 0x38, new byte[] {'A', 'R', 'M', 0x64})) {
                return Optional.of(ARM64_IMAGE);
            }
            if (image.length >= 0x28 && le(image).getInt(0x24) == 0x016f2818) {
                return Optional.of(ARM_ZIMAGE);
            }
            if (startsWith(image, 0x10008, "S390EP".getBytes(StandardCharsets.ISO_8859_1))) {
                return Optional.of(S390_IMAGE);
            }
            return Optional.empty();
        }
    }

    private final String file;
    private final Kind kind;
    private final byte[] raw;
    private final ByteBuffer bytes;
    /** The link address, where the boot format fixes it (else the name pointers vote on it). */
    private final OptionalLong base;
    /** Bytes the kernel occupies from its link address, {@code .bss} included. */
    private final long extent;

    private RawImage(String file, Kind kind, byte[] raw, OptionalLong base, long extent) {
        this.file = file;
        this.kind = kind;
        this.raw = raw;
        this.bytes = ByteBuffer.wrap(raw).order(kind.order);
        this.base = base;
        this.extent = Math.max(raw.length, extent);
    }

    /**
     * Reads the export table of a raw kernel.
     *
     * @param file the image, for messages (the table's origin is {@link Vmlinuz#origin})
     * @param kind the boot image format
     * @param boot the boot image (its header says how large {@code .bss} is)
     * @param raw  the raw kernel: {@code boot} itself for an ARM64 Image, else its decompressed payload
     * @return the exports, identity and embedded configuration (if any)
     * @throws InputFormatException if the tables cannot be found without doubt
     */
    static KernelSymbols read(String file, Kind kind, byte[] boot, byte[] raw) {
        RawImage image = switch (kind) {
            case ARM64_IMAGE -> new RawImage(file, kind, raw, OptionalLong.of(Arm64Image.linkAddress(file, raw)),
                    Math.min(le(boot).getLong(16), Decompression.MAX_KERNEL_BYTES)); // image_size, .bss included
            case ARM_ZIMAGE -> new RawImage(file, kind, raw, OptionalLong.empty(), raw.length + zImageBss(boot));
            case S390_IMAGE -> {
                S390Boot.Relocated r = S390Boot.relocate(file, boot, raw);
                yield new RawImage(file, kind, r.raw(), OptionalLong.of(r.base()), raw.length + r.bss());
            }
        };
        KernelSymbols exports = image.exports();
        return Vmlinux.embeddedConfig(Vmlinuz.origin(file), raw, 0, raw.length).map(exports::withConfig)
                .orElse(exports);
    }

    /** The strings block: identifiers, each NUL-terminated, in {@code [start, end)}. */
    private record Strings(int start, int end) {
        boolean contains(long at) {
            return at >= start && at < end;
        }
    }

    /**
     * Tries each block of identifiers, largest first, under each layout and each link address
     * that fits: the first block and layout under which exactly one address gives tables that
     * pass every check wins; two such addresses refuse the image.
     */
    private KernelSymbols exports() {
        InputFormatException refusal = null;
        for (Strings strings : blocks()) {
            List<Long> bases;
            try {
                bases = base.isPresent() ? List.of(base.getAsLong()) : voteBases(strings);
            } catch (InputFormatException e) {
                refusal = refusal == null ? e : refusal;
                continue;
            }
            for (Vmlinux.Layout layout : kind.layouts) {
                Map<Long, KernelSymbols> found = new LinkedHashMap<>();
                for (long at : bases) {
                    try {
                        found.put(at, read(strings, layout, at));
                    } catch (InputFormatException e) {
                        refusal = refusal == null ? e : refusal;
                    }
                }
                if (found.size() > 1) {
                    throw refuse("two link addresses fit its export tables (" + found.keySet().stream().limit(2)
                            .map(b -> "0x" + Long.toHexString(b)).collect(Collectors.joining(" and ")) + ")");
                }
                if (found.size() == 1) {
                    return found.values().iterator().next();
                }
            }
        }
        throw refusal;
    }

    private KernelSymbols read(Strings strings, Vmlinux.Layout layout, long base) {
        int size = layout.entrySize(kind.wordSize);
        int[] run = longestRun(strings, layout, base);
        int start = run[0];
        int end = run[1];
        int count = (end - start) / size;
        if (count == 0) {
            throw refuse("no run of __ksymtab entries points into the strings");
        }
        long first = Long.MAX_VALUE;
        for (int i = 0; i < count; i++) {
            first = Math.min(first, target(start + i * size, layout, 1, base));
            long ns = target(start + i * size, layout, 2, base);
            first = ns == NONE ? first : Math.min(first, ns);
        }
        int stringsStart = (int) first;
        long crcBytes = stringsStart - (long) end;
        if (crcBytes != 0 && crcBytes != 4L * count) {
            throw refuse("the " + crcBytes + " bytes between the " + count + " __ksymtab entries and their strings"
                    + " are not one CRC per entry");
        }
        Strings named = new Strings(stringsStart, strings.end);
        List<String> names = new ArrayList<>(count);
        List<String> namespaces = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            names.add(string(named, target(start + i * size, layout, 1, base)));
            long ns = target(start + i * size, layout, 2, base);
            namespaces.add(ns == NONE ? "" : string(named, ns));
        }
        int plain = split(names);
        List<ExportedSymbol> exports = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int entry = start + i * size;
            long value = layout == Vmlinux.Layout.PREL32 ? base + entry + bytes.getInt(entry) : word(entry);
            OptionalLong crc = crcBytes == 0 ? OptionalLong.empty()
                    : OptionalLong.of(bytes.getInt(end + 4 * i) & 0xffff_ffffL);
            exports.add(new ExportedSymbol(names.get(i), kind.wordSize == 4 ? value & 0xffff_ffffL : value, crc,
                    i < plain ? ExportKind.EXPORT_SYMBOL : ExportKind.EXPORT_SYMBOL_GPL, namespaces.get(i)));
        }
        List<AddressGuard.Range> kernel = List.of(new AddressGuard.Range(base, start),
                new AddressGuard.Range(base + strings.end, extent - strings.end));
        Map<String, Long> sections = new LinkedHashMap<>();
        sections.put("__ksymtab", (long) plain * size);
        sections.put("__ksymtab_gpl", (long) (count - plain) * size);
        if (crcBytes != 0) {
            sections.put("__kcrctab", 4L * plain);
            sections.put("__kcrctab_gpl", 4L * (count - plain));
        }
        sections.put("__ksymtab_strings", (long) strings.end - stringsStart);
        sections.values().removeIf(v -> v == 0);
        List<ExportedSymbol> guarded = AddressGuard.check(file, "the image and its .bss", kernel, exports);
        return KernelSymbols.of(Vmlinuz.origin(file), guarded, Map.of(), new KernelIdentity(Vmlinux.banner(raw, 0, raw.length), buildId(stringsStart)),
                Optional.empty(), kind.wordSize, kind.machine).withExportSections(sections);
    }

    /** Marks a namespace field that names no namespace. */
    private static final long NONE = -1;

    /**
     * @param field 1 for the name, 2 for the namespace
     * @return the image offset field {@code field} of the entry at {@code entry} points at;
     *         {@link #NONE} for a namespace field that holds 0 or a layout without one
     */
    private long target(int entry, Vmlinux.Layout layout, int field, long base) {
        if (field == 2 && layout == Vmlinux.Layout.ABSOLUTE) {
            return NONE;
        }
        if (layout == Vmlinux.Layout.PREL32) {
            int at = entry + 4 * field;
            int rel = bytes.getInt(at);
            return rel == 0 && field == 2 ? NONE : at + (long) rel;
        }
        long w = word(entry + field * kind.wordSize);
        return w == 0 && field == 2 ? NONE : w - base;
    }

    private long word(int at) {
        return kind.wordSize == 8 ? bytes.getLong(at) : bytes.getInt(at) & 0xffff_ffffL;
    }

    /**
     * The largest runs of NUL-terminated identifiers, largest first: one is
     * {@code __ksymtab_strings}. A run may begin with bytes of the CRC table before it; the names
     * say where it truly begins.
     */
    private List<Strings> blocks() {
        List<int[]> runs = new ArrayList<>(); // {count, start, end}
        int i = 0;
        while (i < raw.length) {
            int count = 0;
            int j = i;
            int k;
            while (true) {
                k = j;
                while (k < raw.length && isIdentifier(raw[k])) {
                    k++;
                }
                if (k == j || k >= raw.length || raw[k] != 0) {
                    break;
                }
                count++;
                j = k + 1;
            }
            if (count >= MIN_STRINGS) {
                runs.add(new int[] {count, i, j});
            }
            // No run starts inside the identifier that ended the scan: it would end where this one did.
            i = count > 0 ? j : Math.max(i + 1, k + 1);
        }
        if (runs.isEmpty()) {
            throw refuse("no block of symbol names (__ksymtab_strings) found");
        }
        runs.sort((a, b) -> Integer.compare(b[0], a[0]));
        return runs.stream().limit(BLOCKS_TRIED).map(r -> new Strings(r[1], r[2])).toList();
    }

    private static boolean isIdentifier(byte b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' || b == '.'
                || b == '$';
    }

    /** @return {start, end} of the longest run of entries before the strings whose names point into them */
    private int[] longestRun(Strings strings, Vmlinux.Layout layout, long base) {
        int size = layout.entrySize(kind.wordSize);
        int from = Math.max(0, strings.start - WINDOW) & ~3;
        int best = 0;
        int bestEnd = 0;
        for (int phase = 0; phase < size; phase += 4) {
            int run = 0;
            for (int q = from + phase; q + size <= strings.start; q += size) {
                long ns = target(q, layout, 2, base);
                if (strings.contains(target(q, layout, 1, base)) && (ns == NONE || strings.contains(ns))) {
                    run++;
                    if (run > best) {
                        best = run;
                        bestEnd = q + size;
                    }
                } else {
                    run = 0;
                }
            }
        }
        return new int[] {bestEnd - best * size, bestEnd};
    }

    /** More link addresses than this fitting the votes is no structure at all. */
    private static final int MAX_BASES = 4;

    /**
     * The link addresses a kernel whose entries hold absolute pointers may have: those under
     * which the words before the strings point at the starts of most of {@link #VOTERS} of its
     * strings (each string is a name or namespace some entry points at). Strings of one length
     * in a row let an address one string off win the vote too: the tables decide between them.
     */
    private List<Long> voteBases(Strings strings) {
        List<Integer> all = new ArrayList<>();
        for (int at = strings.start + 1; at < strings.end; at++) {
            if (raw[at - 1] == 0) { // each string is a name or namespace, pointed at from its start
                all.add(at);
            }
        }
        if (all.size() < VOTERS_FROM + VOTERS + 1) {
            throw refuse("too few strings to find the link address");
        }
        int[] voters = new int[VOTERS + 1];
        for (int v = 0; v <= VOTERS; v++) {
            voters[v] = all.get(VOTERS_FROM + (int) ((long) v * (all.size() - 1 - VOTERS_FROM) / VOTERS));
        }
        int from = Math.max(0, strings.start - WINDOW) & ~(kind.wordSize - 1);
        long[] words = new long[(strings.start - from) / kind.wordSize];
        for (int i = 0; i < words.length; i++) {
            words[i] = word(from + i * kind.wordSize);
        }
        Arrays.sort(words);
        int anchor = voters[0];
        List<Long> found = new ArrayList<>();
        for (int i = 0; i < words.length; i++) {
            if (i > 0 && words[i] == words[i - 1]) {
                continue;
            }
            long base = words[i] - anchor;
            int misses = 0;
            for (int v = 1; v <= VOTERS && misses <= VOTERS - VOTES_NEEDED; v++) {
                misses += Arrays.binarySearch(words, base + voters[v]) >= 0 ? 0 : 1;
            }
            if (misses <= VOTERS - VOTES_NEEDED) {
                found.add(base);
                if (found.size() > MAX_BASES) {
                    throw refuse("more than " + MAX_BASES + " link addresses make its words point at its symbol names");
                }
            }
        }
        if (found.isEmpty()) {
            throw refuse("no link address makes its words point at its symbol names");
        }
        return found;
    }

    /**
     * The {@code .bss} size from a zImage's table (arch/arm/boot/compressed/vmlinux.lds.S: at
     * the offset held at 0x38, after magic 0x45454545 at 0x34: a word count, the tag
     * {@code KBSZ}, the payload size's address, then {@code _kernel_bss_size}), 0 if absent.
     */
    private static long zImageBss(byte[] boot) {
        ByteBuffer b = le(boot);
        if (boot.length < 0x3c || b.getInt(0x34) != 0x45454545) {
            return 0;
        }
        long table = (b.getInt(0x38) & 0xffff_ffffL) - (b.getInt(0x28) & 0xffff_ffffL);
        if (table < 0 || table + 16 > boot.length || b.getInt((int) table + 4) != 0x5a534c4b) {
            return 0;
        }
        return b.getInt((int) table + 12) & 0xffff_ffffL;
    }

    /**
     * @return the string at image offset {@code at}, inside the block (not always at the start
     *         of one of its strings: the linker merges a name into the tail of a longer one)
     */
    private String string(Strings block, long at) {
        if (!block.contains(at)) {
            throw refuse("an entry's name points outside the strings (offset 0x" + Long.toHexString(at) + ")");
        }
        int end = (int) at;
        while (end < block.end && raw[end] != 0) {
            end++;
        }
        return new String(raw, (int) at, end - (int) at, StandardCharsets.ISO_8859_1);
    }

    /** @return how many entries {@code __ksymtab} has: names rise strictly in each table, and fall once between them */
    private int split(List<String> names) {
        int at = -1;
        for (int i = 1; i < names.size(); i++) {
            if (names.get(i - 1).compareTo(names.get(i)) >= 0) { // ISO-8859-1: char order is unsigned byte order
                if (at >= 0) {
                    throw refuse("its export names are not two sorted tables (they fall at entries " + at + " and " + i + ")");
                }
                at = i;
            }
        }
        if (at < 0) {
            throw refuse("its export names rise throughout: where __ksymtab_gpl begins cannot be told");
        }
        return at;
    }

    /** @return the GNU build ID of the first such note after the strings ({@code .notes} follows them) */
    private Optional<String> buildId(int from) {
        byte[] gnu = {'G', 'N', 'U', 0};
        for (int at = ByteSearch.indexOf(raw, gnu, from, raw.length); at >= 12;
             at = ByteSearch.indexOf(raw, gnu, at + 1, raw.length)) {
            int head = at - 12;
            long descsz = bytes.getInt(head + 4) & 0xffff_ffffL;
            if (bytes.getInt(head) == 4 && bytes.getInt(head + 8) == 3 && descsz > 0 && descsz <= 64
                    && at + 4 + descsz <= raw.length) {
                return Optional.of(HexFormat.of().formatHex(raw, at + 4, at + 4 + (int) descsz));
            }
        }
        return Optional.empty();
    }

    private InputFormatException refuse(String why) {
        return refuse(file, kind, why);
    }

    /** @return the refusal of {@code file}, a {@code kind} image, for the reason {@code why} */
    static InputFormatException refuse(String file, Kind kind, String why) {
        return new InputFormatException(file, "is " + kind.label + " whose export tables cannot be found without doubt: "
                + why + "; give the vmlinux of the kernel's -dbg package or build tree");
    }

    private static ByteBuffer le(byte[] data) {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static boolean startsWith(byte[] data, int at, byte[] prefix) {
        return data.length >= at + prefix.length && Arrays.equals(data, at, at + prefix.length, prefix, 0, prefix.length);
    }
}
