package org.lkmpre.preresolve;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.TableSet;

/**
 * Chooses a backend: "java" (the reference, always there), or a native binding by name, or
 * "auto": the first available native binding (FFM, then JNA), else Java.
 */
public final class Backends {
    /** The FFM binding's name, known even where its provider cannot load. */
    private static final String FFM = "ffm";

    private Backends() {
    }

    /** @return every backend name, with why it cannot run here ("" when it can), automatic order first */
    public static Map<String, String> all() {
        Map<String, String> out = new LinkedHashMap<>();
        List<BackendProvider> providers = providers();
        if (providers.stream().noneMatch(p -> p.name().equals(FFM))) {
            out.put(FFM, ffmMissing());
        }
        for (BackendProvider p : providers) {
            out.put(p.name(), p.unavailable().orElse(""));
        }
        out.put("java", "");
        return out;
    }

    /**
     * Opens a backend.
     *
     * @param name      "auto", "java", or a provider's name
     * @param reference the Java reference preresolver
     * @return the backend
     * @throws IllegalArgumentException if the named backend does not exist or cannot run here
     */
    public static Backend open(String name, Preresolver reference) {
        return select(name).map(p -> p.open(reference)).orElse(reference);
    }

    /**
     * Opens a resolver for the loader simulator, chosen as {@link #open} chooses a backend.
     *
     * @param name   "auto", "java", or a provider's name
     * @param tables what to search
     * @return the resolver
     * @throws IllegalArgumentException if the named backend does not exist or cannot run here
     * @throws org.lkmpre.InputFormatException if a table is not a valid index
     */
    public static Resolver resolver(String name, TableSet tables) {
        return select(name).map(p -> p.resolver(tables)).orElseGet(() -> Resolver.java(tables));
    }

    /** The native provider a backend name selects, or empty for the Java reference. */
    private static Optional<BackendProvider> select(String name) {
        if (name.equals("java")) {
            return Optional.empty();
        }
        for (BackendProvider p : providers()) {
            if (name.equals("auto") && p.unavailable().isEmpty()) {
                return Optional.of(p);
            }
            if (p.name().equals(name)) {
                p.unavailable().ifPresent(why -> {
                    throw new IllegalArgumentException("backend " + name + " is not available: " + why);
                });
                return Optional.of(p);
            }
        }
        if (name.equals("auto")) {
            return Optional.empty();
        }
        if (name.equals(FFM)) {
            throw new IllegalArgumentException("backend " + FFM + " is not available: " + ffmMissing());
        }
        throw new IllegalArgumentException("no backend called " + name + " (known: " + String.join(", ", all().keySet()) + ")");
    }

    /** Why no FFM provider loaded: a JDK before 22 (the build skips it there), or its jar left out. */
    private static String ffmMissing() {
        int jdk = Runtime.version().feature();
        return jdk < 22 ? "needs JDK 22 or newer, this is JDK " + jdk : "lkmpre-ffm is not on the class path";
    }

    private static List<BackendProvider> providers() {
        List<BackendProvider> out = new ArrayList<>();
        Iterator<BackendProvider> it = ServiceLoader.load(BackendProvider.class).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                out.add(it.next());
            } catch (ServiceConfigurationError | UnsupportedClassVersionError e) {
                // A provider built for a newer JDK (FFM needs 22) cannot load here: skip it.
            }
        }
        out.sort(Comparator.comparingInt(BackendProvider::preference));
        return out;
    }
}
