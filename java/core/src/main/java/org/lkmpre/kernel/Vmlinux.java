package org.lkmpre.kernel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Section;
import org.lkmpre.elf.SectionImage;

/**
 * An uncompressed kernel image (ELF executable). Exports come from {@code __ksymtab} and
 * {@code __ksymtab_gpl} in whichever entry layout the kernel uses, names from
 * {@code __ksymtab_strings}, CRCs from {@code __kcrctab} and {@code __kcrctab_gpl}.
 *
 * @param path the vmlinux file
 */
public record Vmlinux(Path path) implements KernelSource {
    private static final byte[] IKCONFIG_START = "IKCFG_ST".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] IKCONFIG_END = "IKCFG_ED".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] BANNER = "Linux version ".getBytes(StandardCharsets.ISO_8859_1);
    private static final int NT_GNU_BUILD_ID = 3;

    /** The layouts of {@code struct kernel_symbol} that kernels have used. */
    enum Layout {
        /** {@code int value_offset, name_offset, namespace_offset}, each relative to its own field (PREL32). */
        PREL32,
        /** {@code unsigned long value; const char *name, *namespace} (5.4+ without PREL32). */
        ABSOLUTE_WITH_NAMESPACE,
        /** {@code unsigned long value; const char *name} (before 5.4). */
        ABSOLUTE;

        int entrySize(int word) {
            return switch (this) {
                case PREL32 -> 12;
                case ABSOLUTE_WITH_NAMESPACE -> 3 * word;
                case ABSOLUTE -> 2 * word;
            };
        }
    }

    @Override
    public Path primaryFile() {
        return path;
    }

    @Override
    public KernelSymbols read() throws IOException {
        return parse(path.toString(), KernelSource.readFile(path));
    }

    /**
     * Reads the export table from vmlinux bytes.
     *
     * @param file name for messages
     * @param data the whole vmlinux
     * @return the exports, identity and embedded configuration (if any)
     * @throws InputFormatException if the image is malformed, exports nothing, or embeds a
     *                              configuration that does not decompress
     */
    public static KernelSymbols parse(String file, byte[] data) {
        ElfFile elf = ElfFile.parse(file, data);
        KernelSymbols exports = readExports(file, data, elf);
        // kernel/configs.c puts the configuration in .rodata: a search there, not through the whole
        // image, takes 3 ms instead of 40 on Debian's amd64 vmlinux (4.6 of 66 MB).
        Span rodata = Span.rodata(elf);
        return embeddedConfig(file, data, rodata.from(), rodata.to()).map(exports::withConfig).orElse(exports);
    }

    /**
     * Reads the export table and identity, not the embedded configuration: what the C core's
     * {@code lkmpre_index_build} reads (its caller says what the configuration enables).
     *
     * @param file name for messages
     * @param data the whole vmlinux
     * @return the exports and identity, with no configuration
     * @throws InputFormatException if the image is malformed or exports nothing
     */
    public static KernelSymbols readExports(String file, byte[] data) {
        return readExports(file, data, ElfFile.parse(file, data));
    }

    private static KernelSymbols readExports(String file, byte[] data, ElfFile elf) {
        if (elf.type() == ElfFile.ET_REL) {
            throw new InputFormatException(file, "is a relocatable object (a module?), not a kernel image");
        }
        Section strings = elf.section("__ksymtab_strings")
                .orElseThrow(() -> new InputFormatException(file, "has no __ksymtab_strings section: not a kernel that exports symbols"));
        Optional<SectionImage> plain = image(elf, "__ksymtab");
        Optional<SectionImage> gpl = image(elf, "__ksymtab_gpl");
        if (plain.isEmpty() && gpl.isEmpty()) {
            throw new InputFormatException(file, "has neither __ksymtab nor __ksymtab_gpl");
        }
        Optional<SectionImage> crcs = image(elf, "__kcrctab");
        Optional<SectionImage> gplCrcs = image(elf, "__kcrctab_gpl");
        BootRelocations.apply(elf, Stream.of(plain, gpl, crcs, gplCrcs).flatMap(Optional::stream).toList());
        Layout layout = detectLayout(elf, strings, plain, gpl);
        List<ExportedSymbol> exports = new ArrayList<>();
        plain.ifPresent(s -> readTable(elf, s, crcs, strings, layout, ExportKind.EXPORT_SYMBOL, exports));
        gpl.ifPresent(s -> readTable(elf, s, gplCrcs, strings, layout, ExportKind.EXPORT_SYMBOL_GPL, exports));
        Map<String, Long> sections = new LinkedHashMap<>();
        for (Section s : elf.sections()) {
            if ((s.name().startsWith("__ksymtab") || s.name().startsWith("__kcrctab")) && s.size() > 0) {
                sections.merge(s.name(), s.size(), Long::sum);
            }
        }
        return KernelSymbols.of(file, AddressGuard.check(elf, exports), Map.of(), identity(elf, data), Optional.empty(),
                elf.wordSize(), elf.machine()).withExportSections(sections);
    }

    /** A copy of an export table, to which the boot code's relocations are applied. */
    private static Optional<SectionImage> image(ElfFile elf, String name) {
        return elf.section(name).map(s -> {
            if (!s.hasFileBytes() && s.size() != 0) {
                throw new InputFormatException(elf.file(), name + " occupies no file bytes");
            }
            return elf.image(s);
        });
    }

    private static Layout detectLayout(ElfFile elf, Section strings, Optional<SectionImage> plain,
                                       Optional<SectionImage> gpl) {
        // 64-bit kernels with HAVE_ARCH_PREL32_RELOCATIONS (x86_64, arm64) use PREL32; 32-bit
        // arm and sh4 and 64-bit s390x use absolute pointers. Detect from the data: every name
        // must land in __ksymtab_strings under the layout chosen.
        List<Layout> order = elf.is64()
                ? List.of(Layout.PREL32, Layout.ABSOLUTE_WITH_NAMESPACE, Layout.ABSOLUTE)
                : List.of(Layout.ABSOLUTE_WITH_NAMESPACE, Layout.ABSOLUTE, Layout.PREL32);
        for (Layout layout : order) {
            if (fits(elf, plain, strings, layout) && fits(elf, gpl, strings, layout)) {
                return layout;
            }
        }
        throw new InputFormatException(elf.file(), "__ksymtab entries match no known struct kernel_symbol layout");
    }

    private static boolean fits(ElfFile elf, Optional<SectionImage> table, Section strings, Layout layout) {
        if (table.isEmpty()) {
            return true;
        }
        SectionImage t = table.get();
        int size = layout.entrySize(elf.wordSize());
        if (t.section().size() % size != 0) {
            return false;
        }
        long count = t.section().size() / size;
        for (long i = 0; i < count; i++) {
            long name = nameAddress(elf, t, i, layout);
            if (Long.compareUnsigned(name - strings.addr(), strings.size()) >= 0) {
                return false;
            }
        }
        return true;
    }

    /** Reads field {@code field} (0 value, 1 name, 2 namespace) of entry {@code i} as an address: PREL32 fields are relative to themselves. */
    private static long pointer(ElfFile elf, SectionImage t, long i, Layout layout, int field) {
        int fieldSize = layout == Layout.PREL32 ? 4 : elf.wordSize();
        long at = t.section().addr() + i * layout.entrySize(elf.wordSize()) + (long) field * fieldSize;
        if (layout == Layout.PREL32) {
            int rel = t.s32(at);
            return rel == 0 && field == 2 ? 0 : elf.layout().toWord(at + rel);
        }
        return t.word(at);
    }

    private static long nameAddress(ElfFile elf, SectionImage t, long i, Layout layout) {
        return pointer(elf, t, i, layout, 1);
    }

    private static void readTable(ElfFile elf, SectionImage table, Optional<SectionImage> crcs, Section strings,
                                  Layout layout, ExportKind kind, List<ExportedSymbol> out) {
        int count = (int) (table.section().size() / layout.entrySize(elf.wordSize()));
        int crcSize = 0;
        if (crcs.isPresent()) {
            long size = crcs.get().section().size();
            // Since 4.10 CRCs are 32-bit; older 64-bit kernels stored them as unsigned long.
            crcSize = count == 0 ? 4 : (int) (size / count);
            if ((crcSize != 4 && crcSize != elf.wordSize()) || (long) crcSize * count != size) {
                throw new InputFormatException(elf.file(), crcs.get().section().name() + " (" + size
                        + " bytes) does not match " + table.section().name() + " (" + count + " entries)");
            }
        }
        for (int i = 0; i < count; i++) {
            String name = elf.stringAt(strings, nameAddress(elf, table, i, layout));
            long value = pointer(elf, table, i, layout, 0);
            String namespace = "";
            if (layout != Layout.ABSOLUTE) {
                long ns = pointer(elf, table, i, layout, 2);
                if (ns != 0) {
                    namespace = elf.stringAt(strings, ns);
                }
            }
            OptionalLong crc = OptionalLong.empty();
            if (crcSize != 0) {
                long at = crcs.get().section().addr() + (long) i * crcSize;
                crc = OptionalLong.of(crcSize == 4 ? crcs.get().u32(at) : crcs.get().word(at) & 0xffff_ffffL);
            }
            out.add(new ExportedSymbol(name, value, crc, kind, namespace));
        }
    }

    private static KernelIdentity identity(ElfFile elf, byte[] data) {
        Span rodata = Span.rodata(elf);
        return new KernelIdentity(banner(data, rodata.from(), rodata.to()), buildId(elf));
    }

    /** Bytes {@code [from, to)} of the file. */
    private record Span(int from, int to) {
        /** @return .rodata's bytes, where the banner and the embedded configuration are; the whole file without one */
        static Span rodata(ElfFile elf) {
            return elf.section(".rodata").filter(Section::hasFileBytes)
                    .map(r -> new Span((int) r.offset(), (int) (r.offset() + r.size())))
                    .orElse(new Span(0, elf.length()));
        }
    }

    /** @return the first {@code linux_banner} ("Linux version ...", to its NUL or newline) in {@code data[from, to)} */
    static Optional<String> banner(byte[] data, int from, int to) {
        int at = ByteSearch.indexOf(data, BANNER, from, to);
        if (at < 0) {
            return Optional.empty();
        }
        int end = at;
        while (end < to && data[end] != 0 && data[end] != '\n') {
            end++;
        }
        return Optional.of(new String(data, at, end - at, StandardCharsets.ISO_8859_1));
    }

    private static Optional<String> buildId(ElfFile elf) {
        for (Section s : elf.sections()) {
            if (s.type() != 7 /* SHT_NOTE */ || !s.hasFileBytes()) {
                continue;
            }
            long at = s.offset();
            long end = s.offset() + s.size();
            while (end - at >= 12) {
                long namesz = elf.u32(at);
                long descsz = elf.u32(at + 4);
                long type = elf.u32(at + 8);
                long name = at + 12;
                long desc = name + align4(namesz);
                long next = desc + align4(descsz);
                if (namesz > end || descsz > end || next > end) {
                    break;
                }
                if (type == NT_GNU_BUILD_ID && namesz == 4 && "GNU".equals(elf.stringAtOffset(name, name + 4))) {
                    return Optional.of(HexFormat.of().formatHex(bytesAt(elf, desc, (int) descsz)));
                }
                at = next;
            }
        }
        return Optional.empty();
    }

    private static byte[] bytesAt(ElfFile elf, long at, int n) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = (byte) elf.u8(at + i);
        }
        return out;
    }

    private static long align4(long n) {
        return (n + 3) & ~3L;
    }

    /** @return how a configuration embedded in the image {@code file} names where it was read */
    static String embeddedConfigOrigin(String file) {
        return "embedded IKCONFIG in " + file;
    }

    /**
     * @param from where in {@code data} the configuration may start (IKCFG_ST)
     * @param to   where it must have ended (IKCFG_ED)
     * @return the configuration embedded between the markers, if any
     */
    static Optional<KernelConfig> embeddedConfig(String file, byte[] data, int from, int to) {
        int start = ByteSearch.indexOf(data, IKCONFIG_START, from, to);
        if (start < 0) {
            return Optional.empty();
        }
        int gz = start + IKCONFIG_START.length;
        int end = ByteSearch.indexOf(data, IKCONFIG_END, gz, to);
        if (end < 0) {
            throw new InputFormatException(file, "embedded kernel config (IKCFG_ST) has no IKCFG_ED end marker");
        }
        try (var in = new GzipCompressorInputStream(new ByteArrayInputStream(data, gz, end - gz))) {
            byte[] text = Decompression.readCapped(file, in, Decompression.MAX_CONFIG_BYTES);
            return Optional.of(KernelConfig.parse(embeddedConfigOrigin(file), text));
        } catch (IOException e) {
            throw new InputFormatException(file, "embedded kernel config is not valid gzip data: " + e.getMessage(), e);
        }
    }
}
