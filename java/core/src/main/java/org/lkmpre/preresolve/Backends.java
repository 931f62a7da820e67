package org.lkmpre.preresolve;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Chooses a backend: "java" (the reference, always there), or a native binding by name, or
 * "auto": the first available native binding (FFM, then JNA), else Java.
 */
public final class Backends {
    private Backends() {
    }

    /** @return every backend name, with why it cannot run here ("" when it can), automatic order first */
    public static Map<String, String> all() {
        Map<String, String> out = new LinkedHashMap<>();
        for (BackendProvider p : providers()) {
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
        if (name.equals("java")) {
            return reference;
        }
        for (BackendProvider p : providers()) {
            if (name.equals("auto") && p.unavailable().isEmpty()) {
                return p.open(reference);
            }
            if (p.name().equals(name)) {
                p.unavailable().ifPresent(why -> {
                    throw new IllegalArgumentException("backend " + name + " is not available: " + why);
                });
                return p.open(reference);
            }
        }
        if (name.equals("auto")) {
            return reference;
        }
        throw new IllegalArgumentException("no backend called " + name + " (known: " + String.join(", ", all().keySet()) + ")");
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
