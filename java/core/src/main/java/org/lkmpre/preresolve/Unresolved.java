package org.lkmpre.preresolve;

import java.util.Objects;

/**
 * An undefined symbol that stays {@code SHN_UNDEF}, and why.
 *
 * @param symbol the symbol name
 * @param reason why it was not preresolved
 * @param detail specifics for a person (the CRCs that differ, the namespace, the exporting
 *               module), "" when there is nothing to add
 */
public record Unresolved(String symbol, UnresolvedReason reason, String detail) {
    /** Checks that no component is null. */
    public Unresolved {
        Objects.requireNonNull(symbol);
        Objects.requireNonNull(reason);
        Objects.requireNonNull(detail);
    }
}
