package org.lkmpre.module;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code key=value} strings of a module's {@code .modinfo} section, in file order.
 *
 * @param entries every entry; a key may repeat ({@code import_ns}, {@code alias})
 */
public record ModInfo(List<Map.Entry<String, String>> entries) {
    /** Licenses that {@code license_is_gpl_compatible()} in the kernel accepts. */
    private static final Set<String> GPL_COMPATIBLE = Set.of("GPL", "GPL v2", "GPL and additional rights",
            "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL");

    /** Copies the entries. */
    public ModInfo {
        entries = List.copyOf(entries);
    }

    /** @return the first value of {@code key} */
    public Optional<String> first(String key) {
        return entries.stream().filter(e -> e.getKey().equals(key)).map(Map.Entry::getValue).findFirst();
    }

    /** @return every value of {@code key}, in file order */
    public List<String> all(String key) {
        return entries.stream().filter(e -> e.getKey().equals(key)).map(Map.Entry::getValue).toList();
    }

    /** @return the {@code license=} value, if any */
    public Optional<String> license() {
        return first("license");
    }

    /**
     * @return true if the kernel lets this module use {@code EXPORT_SYMBOL_GPL} symbols: its
     *         license is GPL-compatible (a module without a license is not)
     */
    public boolean gplCompatible() {
        return license().filter(GPL_COMPATIBLE::contains).isPresent();
    }

    /** @return the namespaces named by {@code import_ns=} entries */
    public List<String> importedNamespaces() {
        return all("import_ns");
    }

    /** @return the modules named by {@code depends=} (comma-separated), in order */
    public List<String> depends() {
        return first("depends").filter(d -> !d.isEmpty()).map(d -> List.of(d.split(","))).orElse(List.of());
    }
}
