package org.lkmpre.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * The native bindings of one service found by {@link ServiceLoader} (backends, resolvers), and
 * the choice among them by name (a "backend" in messages, as the command line calls both): "java" (the reference, always there), a binding's name, or
 * "auto": the first available binding (FFM, then JNA), else Java.
 *
 * @param <P> the provider type
 */
public final class Providers<P> {
    /** The FFM binding's name, known even where its provider cannot load. */
    private static final String FFM = "ffm";

    private final List<P> providers;
    private final Function<P, String> name;
    private final Function<P, Optional<String>> unavailable;

    private Providers(List<P> providers, Function<P, String> name, Function<P, Optional<String>> unavailable) {
        this.providers = providers;
        this.name = name;
        this.unavailable = unavailable;
    }

    /**
     * Loads the providers of {@code service} that this JDK can run, in order of preference.
     *
     * @param <P>         the provider type
     * @param service     the service interface (its module {@code uses} it)
     * @param name        a provider's name
     * @param preference  a provider's rank for "auto": lower first
     * @param unavailable why a provider cannot run here, or empty
     * @return the providers
     */
    public static <P> Providers<P> load(Class<P> service, Function<P, String> name,
                                        ToIntFunction<P> preference, Function<P, Optional<String>> unavailable) {
        List<P> out = loadable(service);
        out.sort(Comparator.comparingInt(preference));
        return new Providers<>(out, name, unavailable);
    }

    /**
     * @param <P>     the provider type
     * @param service the service interface (its module {@code uses} it)
     * @return the providers of {@code service} that this JDK can load, in the order found; a
     *         provider built for a newer JDK (FFM needs 22) is skipped
     */
    public static <P> List<P> loadable(Class<P> service) {
        List<P> out = new ArrayList<>();
        Iterator<P> it = ServiceLoader.load(service).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    return out;
                }
                out.add(it.next());
            } catch (ServiceConfigurationError | UnsupportedClassVersionError e) {
                // Cannot load here: skip it.
            }
        }
    }

    /** @return every name, with why it cannot run here ("" when it can), automatic order first, "java" last */
    public Map<String, String> all() {
        Map<String, String> out = new LinkedHashMap<>();
        if (providers.stream().noneMatch(p -> name.apply(p).equals(FFM))) {
            out.put(FFM, ffmMissing());
        }
        for (P p : providers) {
            out.put(name.apply(p), unavailable.apply(p).orElse(""));
        }
        out.put("java", "");
        return out;
    }

    /**
     * @param wanted "auto", "java", or a provider's name
     * @return the provider the name selects, or empty for the Java reference
     * @throws IllegalArgumentException if the named provider does not exist or cannot run here
     */
    public Optional<P> select(String wanted) {
        if (wanted.equals("java")) {
            return Optional.empty();
        }
        for (P p : providers) {
            Optional<String> why = unavailable.apply(p);
            if (wanted.equals("auto") && why.isEmpty()) {
                return Optional.of(p);
            }
            if (name.apply(p).equals(wanted)) {
                why.ifPresent(w -> {
                    throw new IllegalArgumentException("backend " + wanted + " is not available: " + w);
                });
                return Optional.of(p);
            }
        }
        if (wanted.equals("auto")) {
            return Optional.empty();
        }
        if (wanted.equals(FFM)) {
            throw new IllegalArgumentException("backend " + FFM + " is not available: " + ffmMissing());
        }
        throw new IllegalArgumentException("no backend called " + wanted + " (known: "
                + String.join(", ", all().keySet()) + ")");
    }

    /** Why no FFM provider loaded: a JDK before 22 (the build skips it there), or its jar left out. */
    private static String ffmMissing() {
        int jdk = Runtime.version().feature();
        return jdk < 22 ? "needs JDK 22 or newer, this is JDK " + jdk : "lkmpre-ffm is not on the class path";
    }
}
