package org.lkmpre.preresolve;

import java.util.Map;
import java.util.Optional;
import org.lkmpre.internal.NativeWalk;
import org.lkmpre.internal.Providers;

/**
 * Chooses a backend: "java" (the reference, always there), or a native binding by name, or
 * "auto": the first available native binding (FFM, then JNA), else Java.
 */
public final class Backends {
    private Backends() {
    }

    private static Providers<BackendProvider> providers() {
        return Providers.load(BackendProvider.class, BackendProvider::name, BackendProvider::preference,
                BackendProvider::unavailable);
    }

    /** @return every backend name, with why it cannot run here ("" when it can), automatic order first */
    public static Map<String, String> all() {
        return providers().all();
    }

    /**
     * Opens a backend; close it when done (try-with-resources).
     *
     * @param name      "auto", "java", or a provider's name
     * @param reference the Java reference preresolver
     * @return the backend
     * @throws IllegalArgumentException if the named backend does not exist or cannot run here
     */
    public static Backend open(String name, Preresolver reference) {
        return providers().select(name).map(p -> p.open(reference)).orElse(reference);
    }

    /**
     * @param name "auto", "java", or a provider's name
     * @return the walk in the C library of the backend {@code name} chooses, where it has one
     *         ({@link ModuleTree#collect}); none for "java", or a name {@link #open} would refuse
     */
    static Optional<NativeWalk> nativeWalk(String name) {
        try {
            return providers().select(name).filter(NativeWalk.class::isInstance).map(NativeWalk.class::cast);
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // open() says why
        }
    }

    /**
     * Loads and links what {@link #open} will need for {@code name}, for a caller that has it
     * done on another thread while it reads the kernel (linking the FFM binding takes tens of
     * milliseconds). A name that {@link #open} would refuse is left for it to report.
     *
     * @param name "auto", "java", or a provider's name
     */
    public static void prepare(String name) {
        try {
            providers().select(name).ifPresent(BackendProvider::prepare);
        } catch (IllegalArgumentException e) {
            // open() says why.
        }
    }
}
