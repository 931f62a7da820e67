package org.lkmpre.jna;

import java.util.Optional;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.BackendProvider;
import org.lkmpre.internal.NativeLibrary;
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
}
