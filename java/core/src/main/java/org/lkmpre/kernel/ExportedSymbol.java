package org.lkmpre.kernel;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One symbol that vmlinux exports to modules.
 *
 * @param name      the symbol name
 * @param address   its run-time address (for per-CPU symbols, the per-CPU offset), masked to the
 *                  kernel's ELF class width
 * @param crc       the modversions CRC from {@code __kcrctab*}, if the kernel has them
 * @param kind      {@code EXPORT_SYMBOL} or {@code EXPORT_SYMBOL_GPL}
 * @param namespace the symbol namespace, "" when the export has none
 */
public record ExportedSymbol(String name, long address, OptionalLong crc, ExportKind kind, String namespace) {
    /** Checks that no component is null. */
    public ExportedSymbol {
        Objects.requireNonNull(name);
        Objects.requireNonNull(crc);
        Objects.requireNonNull(kind);
        Objects.requireNonNull(namespace);
    }
}
