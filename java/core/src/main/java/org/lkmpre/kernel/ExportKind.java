package org.lkmpre.kernel;

/** How a symbol is exported, in the kernel's own macro names. */
public enum ExportKind {
    /** {@code EXPORT_SYMBOL}: any module may use it ({@code __ksymtab}). */
    EXPORT_SYMBOL,
    /** {@code EXPORT_SYMBOL_GPL}: only GPL-compatible modules may use it ({@code __ksymtab_gpl}). */
    EXPORT_SYMBOL_GPL;

    /** @return true for GPL-only exports */
    public boolean gplOnly() {
        return this == EXPORT_SYMBOL_GPL;
    }
}
