package org.lkmpre.simulate;

import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;
import org.lkmpre.internal.Providers;

/**
 * Chooses the loader simulator's resolver by the names {@link org.lkmpre.preresolve.Backends}
 * knows, with the same rule: "java" ({@link Resolver#java}), a native binding's name, or "auto"
 * (the first available binding, else Java).
 */
public final class Resolvers {
    private Resolvers() {
    }

    /**
     * Opens a resolver.
     *
     * @param name   "auto", "java", or a binding's name
     * @param tables what to search
     * @return the resolver; close it when done
     * @throws IllegalArgumentException if the named binding does not exist or cannot run here
     * @throws org.lkmpre.InputFormatException if a table is not a valid index
     */
    public static Resolver open(String name, TableSet tables) {
        return Providers.load(ResolverProvider.class, ResolverProvider::name, ResolverProvider::preference,
                ResolverProvider::unavailable).select(name).map(p -> p.open(tables)).orElseGet(() -> Resolver.java(tables));
    }
}
