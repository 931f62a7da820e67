package org.lkmpre.jna;

import java.util.Optional;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.BackendProvider;
import org.lkmpre.preresolve.NativeLibrary;
import org.lkmpre.preresolve.Preresolver;

/** Provides the JNA binding: runs on JDK 17 and later wherever the native library is. */
public final class JnaBackendProvider implements BackendProvider {
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

    @Override
    public Backend open(Preresolver reference) {
        return new JnaBackend(reference);
    }

    @Override
    public Resolver resolver(TableSet tables) {
        return new JnaResolver(tables);
    }
}
