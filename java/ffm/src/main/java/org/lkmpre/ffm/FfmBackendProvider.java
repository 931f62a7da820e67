package org.lkmpre.ffm;

import java.util.Optional;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.BackendProvider;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.preresolve.Preresolver;

/** Provides the FFM binding (java.lang.foreign), the first choice where the JDK has it. */
public final class FfmBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "ffm";
    }

    @Override
    public int preference() {
        return 10;
    }

    @Override
    public Optional<String> unavailable() {
        return unavailableHere();
    }

    /** @return why the FFM binding cannot run in this JVM (no native library, native access denied), or empty */
    static Optional<String> unavailableHere() {
        Optional<String> lib = NativeLibrary.unavailable();
        if (lib.isPresent()) {
            return lib;
        }
        Module self = FfmBackendProvider.class.getModule();
        return self.isNativeAccessEnabled() ? Optional.empty()
                : Optional.of("native access is not enabled: run java with --enable-native-access=ALL-UNNAMED"
                        + " (class path) or --enable-native-access=org.lkmpre.ffm (module path)");
    }

    @Override
    public Backend open(Preresolver reference) {
        return new FfmBackend(reference);
    }
}
