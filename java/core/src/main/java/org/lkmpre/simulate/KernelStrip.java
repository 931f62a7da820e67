package org.lkmpre.simulate;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.lkmpre.kernel.KernelSymbols;

/**
 * What a kernel could leave out if every module were fully preresolved: the export tables
 * ({@code __ksymtab*}), their CRCs ({@code __kcrctab*}) and names ({@code __ksymtab_strings}).
 *
 * @param sections bytes of each such section of vmlinux, in section order
 */
public record KernelStrip(Map<String, Long> sections) {
    /** Copies the map. */
    public KernelStrip {
        sections = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sections));
    }

    /** @return the export-table sections of the kernel's image, if it was read from one */
    public static Optional<KernelStrip> of(KernelSymbols kernel) {
        return kernel.exportSections().isEmpty() ? Optional.empty() : Optional.of(new KernelStrip(kernel.exportSections()));
    }

    /** @return the bytes of all of them */
    public long total() {
        return sections.values().stream().mapToLong(Long::longValue).sum();
    }
}
