package org.lkmpre.preresolve;

import java.util.Locale;

/**
 * Why an undefined symbol was left {@code SHN_UNDEF}. Apart from
 * {@link #NOT_EXPORTED_BY_VMLINUX} and {@link #ADDRESS_OUTSIDE_VMLINUX}, each is a check the kernel's loader makes in
 * {@code resolve_symbol()} and skips for {@code SHN_ABS} symbols, so lkmpre leaves the symbol for
 * the kernel to reject (or warn about) at load time.
 */
public enum UnresolvedReason {
    /** vmlinux does not export it: another module does, or nothing does. */
    NOT_EXPORTED_BY_VMLINUX,
    /** {@code EXPORT_SYMBOL_GPL}, used by a module whose license is not GPL-compatible. */
    GPL_ONLY,
    /** The kernel has modversions but the module has no {@code __versions} section. */
    NO_MODVERSIONS,
    /** The module's {@code __versions} has no entry for the symbol (Debian kernels refuse this). */
    MISSING_VERSION,
    /** The CRC in the module's {@code __versions} differs from the kernel's. */
    CRC_MISMATCH,
    /** The export is in a namespace that the module does not list in {@code import_ns=}. */
    NAMESPACE_NOT_IMPORTED,
    /**
     * lkmpre's address guard: the export's address lies outside every allocated section of
     * vmlinux, so it is not one the kernel uses; the kernel resolves the symbol at load time.
     */
    ADDRESS_OUTSIDE_VMLINUX;

    /** @return the reason as it appears in reports: lower case, words joined by '-' */
    public String code() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
