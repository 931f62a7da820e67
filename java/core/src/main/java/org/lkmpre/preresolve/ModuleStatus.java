package org.lkmpre.preresolve;

/** What happened to one module. */
public enum ModuleStatus {
    /** Symbols were preresolved and the module marked (possibly 0 of them). */
    PRERESOLVED,
    /** The module already carries a {@code .preresolved} section; it was left alone. */
    ALREADY_PRERESOLVED,
    /** lkmpre declined to patch the module (signed without --strip-signature, other architecture). */
    REFUSED,
    /** The module could not be read or is malformed. */
    FAILED
}
