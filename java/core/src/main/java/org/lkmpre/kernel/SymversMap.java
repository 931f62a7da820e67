package org.lkmpre.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
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
    @Override
    public Path primaryFile() {
        return symvers;
    }

    @Override
    public KernelSymbols read() throws IOException {
        Map<String, Long> addresses = new HashMap<>();
        int wordSize = readSystemMap(systemMap.toString(), KernelSource.readFile(systemMap), addresses);
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
        return KernelSymbols.of(file + " + " + systemMap, exports, moduleExports, KernelIdentity.UNKNOWN,
                Optional.empty(), wordSize, 0);
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

    /** Fills {@code out} with global symbols' addresses; returns the word size the addresses imply. */
    private static int readSystemMap(String file, byte[] data, Map<String, Long> out) {
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
        }
        if (width < 0) {
            throw new InputFormatException(file, "is empty");
        }
        // Fall back to a local entry only where no global one exists.
        locals.forEach(out::putIfAbsent);
        return width / 2;
    }
}
