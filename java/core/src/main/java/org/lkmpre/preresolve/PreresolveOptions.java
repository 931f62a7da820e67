package org.lkmpre.preresolve;

/**
 * Choices that change what the preresolver accepts.
 *
 * @param stripSignature remove an appended module signature instead of refusing the module (the
 *                       patched module then loads unsigned)
 * @param assumeNoKaslr  accept a kernel whose configuration enables KASLR
 *                       ({@code CONFIG_RANDOMIZE_BASE=y}), because it will boot with
 *                       {@code nokaslr}
 */
public record PreresolveOptions(boolean stripSignature, boolean assumeNoKaslr) {
    /** Refuse signed modules and KASLR kernels. */
    public static final PreresolveOptions DEFAULTS = new PreresolveOptions(false, false);
}
