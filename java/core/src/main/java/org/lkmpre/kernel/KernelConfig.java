package org.lkmpre.kernel;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A kernel configuration ({@code .config} text), with where it came from.
 *
 * @param origin  where the configuration was read ("embedded IKCONFIG", a file path)
 * @param options every {@code CONFIG_*} option that is set, without the prefix, with its value
 */
public record KernelConfig(String origin, Map<String, String> options) {
    private static final String PREFIX = "CONFIG_";

    /** Copies the options. */
    public KernelConfig {
        Objects.requireNonNull(origin);
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /**
     * Parses {@code .config} text; comment lines ("# CONFIG_X is not set") leave X unset. Each
     * line is read where it lies in the text, stripped of white space at both ends; only its name
     * and value become strings (a run reads a distribution's 270 KB configuration on every start).
     */
    public static KernelConfig parse(String origin, byte[] text) {
        Map<String, String> options = new LinkedHashMap<>();
        String all = new String(text, StandardCharsets.UTF_8);
        for (int at = 0, next; at < all.length(); at = next + 1) {
            next = all.indexOf('\n', at);
            next = next < 0 ? all.length() : next;
            int start = at;
            int end = next;
            while (start < end && Character.isWhitespace(all.charAt(start))) {
                start++;
            }
            while (end > start && Character.isWhitespace(all.charAt(end - 1))) {
                end--;
            }
            int eq = all.startsWith(PREFIX, start) ? start + PREFIX.length() : end;
            while (eq < end && all.charAt(eq) != '=') {
                eq++;
            }
            if (eq < end) {
                options.put(all.substring(start + PREFIX.length(), eq), all.substring(eq + 1, end));
            }
        }
        return new KernelConfig(origin, options);
    }

    /** @return the value of {@code CONFIG_<name>}, if set */
    public Optional<String> get(String name) {
        return Optional.ofNullable(options.get(name));
    }

    /** @return true if {@code CONFIG_<name>=y} */
    public boolean isEnabled(String name) {
        return "y".equals(options.get(name));
    }

    /** @return true if the kernel randomizes its base address at boot (KASLR) */
    public boolean randomizesBase() {
        return isEnabled("RANDOMIZE_BASE");
    }
}
