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
    /** Copies the options. */
    public KernelConfig {
        Objects.requireNonNull(origin);
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /** Parses {@code .config} text; comment lines ("# CONFIG_X is not set") leave X unset. */
    public static KernelConfig parse(String origin, byte[] text) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String line : new String(text, StandardCharsets.UTF_8).split("\n")) {
            line = line.strip();
            if (line.startsWith("CONFIG_")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    options.put(line.substring("CONFIG_".length(), eq), line.substring(eq + 1));
                }
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
