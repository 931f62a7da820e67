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
 * @param outsideKernel true if the address failed lkmpre's address guard (it lies outside every
 *                  allocated section of vmlinux): lkmpre never writes it into a module
 */
public record ExportedSymbol(String name, long address, OptionalLong crc, ExportKind kind, String namespace,
                             boolean outsideKernel) {
    /** Checks that no component is null. */
    public ExportedSymbol {
        Objects.requireNonNull(name);
        Objects.requireNonNull(crc);
        Objects.requireNonNull(kind);
        Objects.requireNonNull(namespace);
    }

    /** An export whose address passed the guard, or came from a source without sections. */
    public ExportedSymbol(String name, long address, OptionalLong crc, ExportKind kind, String namespace) {
        this(name, address, crc, kind, namespace, false);
    }
}
