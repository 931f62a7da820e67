package org.lkmpre.ffm;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.BackendProvider;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.internal.NativeWalk;
import org.lkmpre.preresolve.Preresolver;
import org.lkmpre.simulate.ResolverProvider;

/**
 * Provides the FFM binding (java.lang.foreign), the first choice where the JDK has it: the
 * preresolve backend, and the loader simulator's resolver (two services, one availability), and
 * the C library's directory walk for {@code ModuleTree}.
 */
public final class FfmBackendProvider implements BackendProvider, ResolverProvider, NativeWalk {
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
        Optional<String> lib = NativeLibrary.unavailable();
        if (lib.isPresent()) {
            return lib;
        }
        Module self = FfmBackendProvider.class.getModule();
        return self.isNativeAccessEnabled() ? Optional.empty()
                : Optional.of("native access is not enabled: run java with --enable-native-access=ALL-UNNAMED"
                        + " (class path) or --enable-native-access=org.lkmpre.ffm (module path)");
    }

    /**
     * Loads the library and links the calls of the whole-file run and the walk (the per-module
     * calls link on first use).
     */
    @Override
    public void prepare() {
        if (unavailable().isEmpty()) {
            Core.indexHandleSize();
            Core.Walk.WALK.isPresent(); // links the walk and the whole-file run, which ModuleTree uses
            Core.Files.PRERESOLVE.isPresent();
        }
    }

    @Override
    public Optional<List<NativeWalk.Found>> walk(Path root) {
        return FfmWalk.walk(root, FfmWalk.FIRST_BUFFER);
    }

    @Override
    public Backend open(Preresolver reference) {
        return new FfmBackend(reference);
    }

    @Override
    public Resolver open(TableSet tables) {
        return new FfmResolver(tables);
    }
}
