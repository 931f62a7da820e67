package org.lkmpre.ffm;

import java.util.Optional;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;
import org.lkmpre.simulate.ResolverProvider;

/** Provides the loader simulator's resolver through FFM, the first choice where the JDK has it. */
public final class FfmResolverProvider implements ResolverProvider {
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
        return FfmBackendProvider.unavailableHere();
    }

    @Override
    public Resolver open(TableSet tables) {
        return new FfmResolver(tables);
    }
}
