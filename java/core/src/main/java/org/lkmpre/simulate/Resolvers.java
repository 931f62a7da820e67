package org.lkmpre.simulate;

import java.util.Map;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;
import org.lkmpre.internal.Providers;

/**
 * Chooses the loader simulator's resolver as {@link org.lkmpre.preresolve.Backends} chooses a
 * backend: "java" ({@link Resolver#java}), a native binding by name, or "auto".
 */
public final class Resolvers {
    private Resolvers() {
    }

    private static Providers<ResolverProvider> providers() {
        return Providers.load(ResolverProvider.class, ResolverProvider::name, ResolverProvider::preference,
                ResolverProvider::unavailable);
    }

    /** @return every resolver name, with why it cannot run here ("" when it can), automatic order first */
    public static Map<String, String> all() {
        return providers().all();
    }

    /**
     * Opens a resolver.
     *
     * @param name   "auto", "java", or a provider's name
     * @param tables what to search
     * @return the resolver; close it when done
     * @throws IllegalArgumentException if the named resolver does not exist or cannot run here
     * @throws org.lkmpre.InputFormatException if a table is not a valid index
     */
    public static Resolver open(String name, TableSet tables) {
        return providers().select(name).map(p -> p.open(tables)).orElseGet(() -> Resolver.java(tables));
    }
}
