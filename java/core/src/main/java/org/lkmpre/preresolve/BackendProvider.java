package org.lkmpre.preresolve;

import java.util.Optional;

/**
 * A way to run the C core's preresolver, found with {@link java.util.ServiceLoader}: the FFM
 * binding (JDK 22+) and the JNA binding each provide one. {@link Backends} chooses among them.
 * The loader simulator's resolvers have their own provider,
 * {@link org.lkmpre.simulate.ResolverProvider}.
 */
public interface BackendProvider {
    /** @return the backend's name ("ffm", "jna") */
    String name();

    /** @return the order of automatic choice: lower first */
    int preference();

    /** @return why the backend cannot run here (no native library, no FFM), or empty if it can */
    Optional<String> unavailable();

    /**
     * Opens the backend for the reference's kernel and options.
     *
     * @param reference the Java reference: the kernel, the options, and the messages of failures
     * @return the backend
     */
    Backend open(Preresolver reference);

    /**
     * Loads and links what {@link #open} needs (the native library, the calls into it), so that a
     * caller can have it done on another thread while it reads the kernel. Does nothing by default.
     */
    default void prepare() {
    }
}
