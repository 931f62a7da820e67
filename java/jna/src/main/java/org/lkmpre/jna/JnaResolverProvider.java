package org.lkmpre.jna;

import java.util.Optional;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.simulate.ResolverProvider;

/** Provides the loader simulator's resolver through JNA: JDK 17 and later, wherever the native library is. */
public final class JnaResolverProvider implements ResolverProvider {
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
    public Resolver open(TableSet tables) {
        return new JnaResolver(tables);
    }
}
