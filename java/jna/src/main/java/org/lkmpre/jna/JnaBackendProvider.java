package org.lkmpre.jna;

import java.util.Optional;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.BackendProvider;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.preresolve.Preresolver;
import org.lkmpre.simulate.ResolverProvider;

/**
 * Provides the JNA binding, which runs on JDK 17 and later wherever the native library is: the
 * preresolve backend, and the loader simulator's resolver.
 */
public final class JnaBackendProvider implements BackendProvider, ResolverProvider {
    @Override
    public String name() {
        return "jna";
    }

    @Override
    public int preference() {
        return 20;
    }

    @Override
    public Optional<String> unavailable() {
        return NativeLibrary.unavailable();
    }

    /** Loads the library through JNA. */
    @Override
    public void prepare() {
        if (unavailable().isEmpty()) {
            Core.indexHandleSize();
        }
    }

    @Override
    public Backend open(Preresolver reference) {
        return new JnaBackend(reference);
    }

    @Override
    public Resolver open(TableSet tables) {
        return new JnaResolver(tables);
    }
}
