package org.lkmpre.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.lkmpre.kernel.ExportKind;
import org.lkmpre.kernel.ExportedSymbol;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * Raw kernels without ELF headers, laid out as the kernel's linker script lays them out: code,
 * {@code __ksymtab}, {@code __ksymtab_gpl}, {@code __kcrctab}, {@code __kcrctab_gpl},
 * {@code __ksymtab_strings} (one name merged into the tail of another, as ld merges strings),
 * a GNU build-ID note, the banner, data whose pointers the boot code fills, and {@code .bss}
 * after the image. One boot image per layout lkmpre reads: an ARM64 Image (PREL32 entries,
 * {@code R_AARCH64_RELATIVE} relocations), an ARM zImage (absolute 32-bit entries, the raw
 * kernel xz-compressed behind a zImage header with its {@code .bss} size) and an s390 image
 * (absolute 64-bit big-endian entries, some values 0 until the boot relocations fill them, the
 * raw kernel xz-compressed behind {@code vmlinux_info}).
 */
public final class RawKernels {
    /** The banner the fixtures carry; its third word is the release. */
    public static final String BANNER = "Linux version 6.1.0-raw-fixture (lkmpre@fixture) #1 SMP";
    /** The build ID the fixtures carry. */
    public static final String BUILD_ID = "0123456789abcdef0123456789abcdef01234567";
    /** Where the code lies, and how much: exports point into it. */
    private static final int CODE = 0x1000;
    private static final int CODE_SIZE = 0x4000;
    /** Bytes of {@code .bss} after the image; one export lies there. */
    public static final int BSS = 0x2000;
    /** A byte that is neither NUL nor part of an identifier, nor 0: filler for code and data. */
    private static final byte FILL = (byte) 0xee;

    private RawKernels() {
    }

    /** A layout's raw kernel, and the exports it must read back to, in table order. */
    public record Built(byte[] image, List<ExportedSymbol> exports) {
    }

    /** @return the 48 exports of the fixtures (two namespaced, one in .bss, one name the tail of another), unsorted */
    private static List<ExportedSymbol> exports(long base, int rawLength) {
        List<ExportedSymbol> out = new ArrayList<>();
        for (int i = 0; i < 48; i++) {
            boolean gpl = i % 3 == 0;
            String name = i == 7 ? "merged_tail" : i == 8 ? "tail" : "fx_" + Integer.toString(i * 7919 % 997, 36) + "_sym" + i;
            String ns = i == 10 || i == 11 ? "FX_NAMESPACE" : "";
            long value = i == 20 ? base + rawLength + BSS / 2 : base + CODE + 16L * i;
            out.add(new ExportedSymbol(name, value, OptionalLong.of(0x9e3779b9L * (i + 1) & 0xffff_ffffL),
                    gpl ? ExportKind.EXPORT_SYMBOL_GPL : ExportKind.EXPORT_SYMBOL, ns));
        }
        return out;
    }

    /** Table order: the plain exports by name, then the GPL ones by name (unsigned bytes). */
    private static List<ExportedSymbol> tableOrder(List<ExportedSymbol> exports) {
        Comparator<ExportedSymbol> byName = (a, b) -> Arrays.compareUnsigned(a.name().getBytes(StandardCharsets.ISO_8859_1),
                b.name().getBytes(StandardCharsets.ISO_8859_1));
        List<ExportedSymbol> out = new ArrayList<>(exports.stream().filter(e -> e.kind() == ExportKind.EXPORT_SYMBOL).sorted(byName).toList());
        out.addAll(exports.stream().filter(e -> e.kind() == ExportKind.EXPORT_SYMBOL_GPL).sorted(byName).toList());
        return out;
    }

    /** The layouts: where the link address and the values come from differs for each. */
    private enum Layout {
        /** PREL32 entries, little-endian; R_AARCH64_RELATIVE relocations whose places hold 0. */
        ARM64(8, 12, ByteOrder.LITTLE_ENDIAN),
        /** Absolute 32-bit entries, little-endian; no relocations. */
        ARM(4, 12, ByteOrder.LITTLE_ENDIAN),
        /** Absolute 64-bit entries, big-endian; .dynsym and .rela.dyn, some values 0 until R_390_64 fills them. */
        S390(8, 24, ByteOrder.BIG_ENDIAN);

        final int word;
        final int entry;
        final ByteOrder order;

        Layout(int word, int entry, ByteOrder order) {
            this.word = word;
            this.entry = entry;
            this.order = order;
        }
    }

    /** @return an ARM64 Image linked at {@code base} */
    public static Built arm64Image(long base) {
        return build(base, Layout.ARM64, 0).built;
    }

    /**
     * @return an ARM zImage linked at {@code base}: the zImage header with its table (the
     *         fixture's {@code .bss} size under tag {@code KBSZ}), and the raw kernel (1 MiB, the
     *         least lkmpre takes for a kernel) xz-compressed; with the exports it must read back to
     */
    public static Built zImage(long base) {
        Raw raw = build(base, Layout.ARM, 1 << 20);
        byte[] head = new byte[0x200];
        ByteBuffer h = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0x24, 0x016f2818).putInt(0x28, 0).putInt(0x30, 0x04030201).putInt(0x34, 0x45454545).putInt(0x38, 0x100);
        h.putInt(0x100, 6).putInt(0x104, 0x5a534c4b).putInt(0x108, 0).putInt(0x10c, BSS).putInt(0x110, 0x8000);
        byte[] image = withXz(head, raw.built.image());
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(0x2c, image.length);
        return new Built(image, raw.built.exports());
    }

    /**
     * @return an s390 image linked at {@code base}: the {@code S390EP} header, {@code vmlinux_info}
     *         (as 6.1 lays it out) naming the raw kernel's {@code .dynsym} and {@code .rela.dyn},
     *         and the raw kernel xz-compressed; with the exports it must read back to
     */
    public static Built s390Image(long base) {
        Raw raw = build(base, Layout.S390, 1 << 20);
        byte[] head = new byte[0x12000];
        System.arraycopy("S390EP".getBytes(StandardCharsets.ISO_8859_1), 0, head, 0x10008, 6);
        ByteBuffer info = ByteBuffer.wrap(head, 0x11000, 0x60).order(ByteOrder.BIG_ENDIAN);
        long imageSize = (raw.built.image().length + 0xfffL) & ~0xfffL;
        info.putLong(base).putLong(base).putLong(imageSize).putLong(BSS).putLong(0).putLong(0).putLong(0).putLong(0)
                .putLong(base + raw.dynsym).putLong(base + raw.rela).putLong(base + raw.relaEnd).putLong(0x3000);
        return new Built(withXz(head, raw.built.image()), raw.built.exports());
    }

    private static byte[] withXz(byte[] head, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head);
        try (XZOutputStream xz = new XZOutputStream(out, new LZMA2Options(1))) {
            xz.write(payload);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** A raw kernel, and where its relocation tables lie (s390). */
    private record Raw(Built built, int dynsym, int rela, int relaEnd) {
    }

    private static Raw build(long base, Layout layout, int minLength) {
        int entry = layout.entry;
        // [header/code][ksymtab][ksymtab_gpl][kcrctab][kcrctab_gpl][strings][note][banner][data][dynsym][rela]
        int tables = CODE + CODE_SIZE;
        int n = 48;
        int crcs = tables + n * entry;
        int strings = crcs + 4 * n;
        // Strings are written in reverse table order; "tail" is merged into "merged_tail".
        Map<String, Integer> at = new LinkedHashMap<>();
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        List<ExportedSymbol> provisional = tableOrder(exports(base, 0));
        for (int i = provisional.size() - 1; i >= 0; i--) {
            String name = provisional.get(i).name();
            if (!name.equals("tail")) {
                at.put(name, strings + s.size());
                s.writeBytes((name + "\0").getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        at.put("tail", at.get("merged_tail") + "merged_".length());
        at.put("FX_NAMESPACE", strings + s.size());
        s.writeBytes("FX_NAMESPACE\0".getBytes(StandardCharsets.ISO_8859_1));
        int note = (strings + s.size() + 3) & ~3;
        int banner = note + 16 + 20;
        int data = (banner + BANNER.length() + 1 + 15) & ~15;
        int places = 80;
        int dynsym = data + 16 * places;
        int symbols = layout == Layout.S390 ? 3 : 0; // null, a defined symbol, an undefined one
        int rela = dynsym + 24 * symbols;
        List<long[]> relocations = new ArrayList<>(); // {place, info, addend}
        int relaEnd = rela + 24 * (layout == Layout.ARM ? 0 : places + (layout == Layout.S390 ? 2 * n : 0));
        int length = Math.max(relaEnd, minLength);
        List<ExportedSymbol> exports = tableOrder(exports(base, length));

        byte[] image = new byte[length];
        Arrays.fill(image, 0, CODE + CODE_SIZE, FILL);
        Arrays.fill(image, data, dynsym, FILL);
        ByteBuffer b = ByteBuffer.wrap(image).order(layout.order);
        if (layout == Layout.ARM64) {
            Arrays.fill(image, 0, 0x40, (byte) 0);
            b.putLong(0x10, length + BSS); // image_size, .bss included
            image[0x38] = 'A';
            image[0x39] = 'R';
            image[0x3a] = 'M';
            image[0x3b] = 0x64;
        }
        for (int i = 0; i < n; i++) {
            ExportedSymbol e = exports.get(i);
            int q = tables + i * entry;
            int nameAt = at.get(e.name());
            int nsAt = e.namespace().isEmpty() ? -1 : at.get(e.namespace());
            switch (layout) {
                case ARM64 -> {
                    b.putInt(q, (int) (e.address() - base - q));
                    b.putInt(q + 4, nameAt - (q + 4));
                    b.putInt(q + 8, nsAt < 0 ? 0 : nsAt - (q + 8));
                }
                case ARM -> {
                    b.putInt(q, (int) e.address());
                    b.putInt(q + 4, (int) (base + nameAt));
                    b.putInt(q + 8, nsAt < 0 ? 0 : (int) (base + nsAt));
                }
                case S390 -> {
                    // Every third value is 0 until the boot code's R_390_64 fills it: against the
                    // defined symbol (whose value is 0x100 less), or the undefined one (adds nothing).
                    b.putLong(q, i % 3 == 0 ? 0 : e.address());
                    b.putLong(q + 8, base + nameAt);
                    b.putLong(q + 16, nsAt < 0 ? 0 : base + nsAt);
                    long[] value = i % 6 == 0 ? new long[] {base + q, 1L << 32 | 22, e.address() - (base + 0x100)}
                            : i % 3 == 0 ? new long[] {base + q, 2L << 32 | 22, e.address()}
                            : new long[] {base + q, 12, e.address()};
                    relocations.add(value);
                    relocations.add(new long[] {base + q + 8, 12, base + nameAt});
                }
            }
            b.putInt(crcs + 4 * i, (int) e.crc().getAsLong());
        }
        System.arraycopy(s.toByteArray(), 0, image, strings, s.size());
        b.putInt(note, 4).putInt(note + 4, 20).putInt(note + 8, 3);
        System.arraycopy("GNU\0".getBytes(StandardCharsets.ISO_8859_1), 0, image, note + 12, 4);
        System.arraycopy(java.util.HexFormat.of().parseHex(BUILD_ID), 0, image, note + 16, 20);
        System.arraycopy(BANNER.getBytes(StandardCharsets.ISO_8859_1), 0, image, banner, BANNER.length());
        for (int i = 0; i < places; i++) {
            int place = data + 16 * i;
            Arrays.fill(image, place, place + layout.word, (byte) 0); // the boot code fills it
            relocations.add(new long[] {base + place, layout == Layout.ARM64 ? 1027 : 12, base + CODE});
        }
        if (layout == Layout.S390) {
            b.putShort(dynsym + 24 + 6, (short) 1).putLong(dynsym + 24 + 8, base + 0x100); // defined: st_shndx, st_value
            b.putLong(dynsym + 48 + 8, 0xdead); // undefined: its value adds nothing
        }
        if (layout != Layout.ARM) {
            for (int i = 0; i < relocations.size(); i++) {
                long[] r = relocations.get(i);
                b.putLong(rela + 24 * i, r[0]).putLong(rela + 24 * i + 8, r[1]).putLong(rela + 24 * i + 16, r[2]);
            }
        }
        return new Raw(new Built(image, exports), dynsym, rela, relaEnd);
    }
}
