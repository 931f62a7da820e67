package org.lkmpre.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import org.lkmpre.InputFormatException;

/**
 * A kernel build's {@code Module.symvers} (which symbols vmlinux exports, their CRCs, kinds and
 * namespaces) joined with its {@code System.map} (their addresses). Rows whose module column is
 * not {@code vmlinux} are recorded as module exports, never as kernel addresses.
 *
 * @param symvers   {@code Module.symvers}: tab-separated crc, name, module, kind, namespace
 * @param systemMap {@code System.map}: address, type letter, name per line
 */
public record SymversMap(Path symvers, Path systemMap) implements KernelSource {
    private static final int EM_ARM = 40;
    /** EXPORT_SYMBOL's label of a {@code struct kernel_symbol}, which System.map lists per export. */
    private static final String KSYMTAB_LABEL = "__ksymtab_";

    @Override
    public Path primaryFile() {
        return symvers;
    }

    /** What lkmpre needs of System.map besides the addresses. */
    private static final class MapFacts {
        final Map<String, Long> addresses = new HashMap<>();
        /** Names of the {@code __ksymtab_NAME} labels: the exports of this build's vmlinux. */
        final Set<String> ksymtabLabels = new HashSet<>();
        /** An ARM EABI kernel (its {@code __aeabi_*} helpers). */
        boolean arm;
        int wordSize;

        /** The kernel's image and per-CPU area, where System.map names their bounds. */
        List<AddressGuard.Range> kernel() {
            Long text = addresses.get("_text");
            Long stext = addresses.get("_stext");
            Long start = text == null || stext != null && Long.compareUnsigned(stext, text) < 0 ? stext : text;
            List<AddressGuard.Range> out = new ArrayList<>();
            range(out, start, addresses.get("_end"));
            range(out, addresses.get("__per_cpu_start"), addresses.get("__per_cpu_end"));
            return out;
        }

        private static void range(List<AddressGuard.Range> out, Long start, Long end) {
            if (start != null && end != null && Long.compareUnsigned(end, start) > 0) {
                out.add(new AddressGuard.Range(start, end - start));
            }
        }
    }

    /**
     * Reads the export table with the kernel's configuration, and refuses a Thumb-2 arm kernel:
     * its System.map prints function addresses with bit 0 cleared, while the kernel's loader
     * needs the Thumb bit that {@code __ksymtab} holds. An arm kernel whose configuration is
     * unknown is refused too: lkmpre cannot tell.
     */
    @Override
    public KernelSymbols read(Optional<Path> config) throws IOException {
        KernelSymbols symbols = KernelSource.super.read(config);
        if (symbols.machine() == EM_ARM) {
            if (symbols.config().isEmpty()) {
                throw new InputFormatException(systemMap.toString(), "is an arm kernel's, and without its configuration"
                        + " (--config) lkmpre cannot tell whether it is Thumb-2, whose System.map lacks the Thumb bit:"
                        + " give --config, or --kernel vmlinux");
            }
            if (symbols.config().get().isEnabled("THUMB2_KERNEL")) {
                throw new InputFormatException(systemMap.toString(), "is a Thumb-2 arm kernel's (CONFIG_THUMB2_KERNEL=y):"
                        + " its function addresses lack the Thumb bit the kernel's loader needs; use --kernel vmlinux");
            }
        }
        return symbols;
    }

    @Override
    public KernelSymbols read() throws IOException {
        MapFacts map = readSystemMap(systemMap.toString(), KernelSource.readFile(systemMap));
        Map<String, Long> addresses = map.addresses;
        String file = symvers.toString();
        String[] lines = new String(KernelSource.readFile(symvers), StandardCharsets.ISO_8859_1).split("\n");
        List<ExportedSymbol> plain = new ArrayList<>();
        List<ExportedSymbol> gpl = new ArrayList<>();
        Map<String, String> moduleExports = new HashMap<>();
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length < 4) {
                throw new InputFormatException(file, "line " + (n + 1) + ": expected crc, name, module, kind[, namespace]");
            }
            String name = f[1];
            String module = f[2];
            if (!module.equals("vmlinux")) {
                moduleExports.putIfAbsent(name, module);
                continue;
            }
            ExportKind kind = switch (f[3]) {
                case "EXPORT_SYMBOL" -> ExportKind.EXPORT_SYMBOL;
                case "EXPORT_SYMBOL_GPL" -> ExportKind.EXPORT_SYMBOL_GPL;
                default -> throw new InputFormatException(file, "line " + (n + 1) + ": unknown export kind '" + f[3] + "'");
            };
            Long address = addresses.get(name);
            if (address == null) {
                throw new InputFormatException(systemMap.toString(), "has no address for '" + name
                        + "', which " + file + " says vmlinux exports (System.map from another build?)");
            }
            ExportedSymbol e = new ExportedSymbol(name, address, parseCrc(file, n, f[0]), kind, f.length > 4 ? f[4] : "");
            (kind.gplOnly() ? gpl : plain).add(e);
        }
        if (plain.isEmpty() && gpl.isEmpty()) {
            throw new InputFormatException(file, "lists no symbol exported by vmlinux");
        }
        List<ExportedSymbol> exports = new ArrayList<>(plain);
        exports.addAll(gpl);
        if (!map.ksymtabLabels.isEmpty()) {
            Set<String> differ = new TreeSet<>(map.ksymtabLabels);
            exports.forEach(x -> {
                if (!differ.remove(x.name())) {
                    differ.add(x.name());
                }
            });
            if (!differ.isEmpty()) {
                throw new InputFormatException(systemMap.toString(), "and " + file + " come from different builds: "
                        + differ.size() + " exports are in one and not the other (for example " + differ.iterator().next() + ")");
            }
        }
        List<AddressGuard.Range> kernel = map.kernel();
        if (kernel.size() == 2) {
            exports = AddressGuard.check(systemMap.toString(), "the kernel's image and per-CPU area", kernel, exports);
        }
        return KernelSymbols.of(file + " + " + systemMap, exports, moduleExports, KernelIdentity.UNKNOWN,
                Optional.empty(), map.wordSize, map.arm ? EM_ARM : 0);
    }

    private static OptionalLong parseCrc(String file, int line, String text) {
        if (!text.startsWith("0x")) {
            throw new InputFormatException(file, "line " + (line + 1) + ": CRC '" + text + "' is not hexadecimal");
        }
        try {
            long crc = Long.parseUnsignedLong(text.substring(2), 16);
            if (crc >>> 32 != 0) {
                throw new InputFormatException(file, "line " + (line + 1) + ": CRC '" + text + "' is wider than 32 bits");
            }
            return OptionalLong.of(crc);
        } catch (NumberFormatException e) {
            throw new InputFormatException(file, "line " + (line + 1) + ": CRC '" + text + "' is not hexadecimal");
        }
    }

    /** Reads global symbols' addresses (locals where no global exists), the word size the addresses imply, and the rest of {@link MapFacts}. */
    private static MapFacts readSystemMap(String file, byte[] data) {
        MapFacts facts = new MapFacts();
        Map<String, Long> out = facts.addresses;
        String[] lines = new String(data, StandardCharsets.ISO_8859_1).split("\n");
        Map<String, Long> locals = new HashMap<>();
        int width = -1;
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split(" ");
            if (f.length != 3 || f[1].length() != 1 || (f[0].length() != 8 && f[0].length() != 16)) {
                throw new InputFormatException(file, "line " + (n + 1) + ": expected 'address type name'");
            }
            if (width < 0) {
                width = f[0].length();
            } else if (width != f[0].length()) {
                throw new InputFormatException(file, "line " + (n + 1) + ": address width changes");
            }
            long address;
            try {
                address = Long.parseUnsignedLong(f[0], 16);
            } catch (NumberFormatException e) {
                throw new InputFormatException(file, "line " + (n + 1) + ": address '" + f[0] + "' is not hexadecimal");
            }
            // Exports are global: prefer the upper-case (global) entry over static namesakes.
            boolean global = Character.isUpperCase(f[1].charAt(0));
            (global ? out : locals).putIfAbsent(f[2], address);
            if (f[2].startsWith(KSYMTAB_LABEL)) {
                facts.ksymtabLabels.add(f[2].substring(KSYMTAB_LABEL.length()));
            }
            facts.arm |= f[2].startsWith("__aeabi_");
        }
        if (width < 0) {
            throw new InputFormatException(file, "is empty");
        }
        // Fall back to a local entry only where no global one exists.
        locals.forEach(out::putIfAbsent);
        facts.wordSize = width / 2;
        return facts;
    }
}
