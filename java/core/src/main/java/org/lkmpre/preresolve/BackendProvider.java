package org.lkmpre.preresolve;

import java.util.Optional;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;

/**
 * A way to run the C core, found with {@link java.util.ServiceLoader}: the FFM binding (JDK
 * 22+) and the JNA binding each provide one. {@link Backends} chooses among them.
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
     * Opens the C core's batch resolver ({@code lkmpre_resolve}) over a table set, for the
     * loader simulator.
     *
     * @param tables the tables, copied to native memory
     * @return the resolver; close it to free that memory
     */
    Resolver resolver(TableSet tables);
}
