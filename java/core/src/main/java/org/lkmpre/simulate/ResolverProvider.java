package org.lkmpre.simulate;

import java.util.Optional;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;

/**
 * A way to run the C core's batch resolver ({@code lkmpre_resolve}) for the loader simulator,
 * found with {@link java.util.ServiceLoader}: the FFM binding (JDK 22+) and the JNA binding each
 * provide one. {@link Resolvers} chooses among them.
 */
public interface ResolverProvider {
    /** @return the binding's name ("ffm", "jna") */
    String name();

    /** @return the order of automatic choice: lower first */
    int preference();

    /** @return why the binding cannot run here (no native library, no FFM), or empty if it can */
    Optional<String> unavailable();

    /**
     * Opens the C core's resolver over a table set.
     *
     * @param tables the tables, copied to native memory
     * @return the resolver; close it to free that memory
     * @throws org.lkmpre.InputFormatException if a table is not a valid index
     */
    Resolver open(TableSet tables);
}
