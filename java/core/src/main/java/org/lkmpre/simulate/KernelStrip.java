package org.lkmpre.simulate;

import java.util.LinkedHashMap;
import java.util.Map;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Section;

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

    /** @return the export-table sections of a vmlinux image */
    public static KernelStrip of(ElfFile vmlinux) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Section s : vmlinux.sections()) {
            if ((s.name().startsWith("__ksymtab") || s.name().startsWith("__kcrctab")) && s.size() > 0) {
                out.merge(s.name(), s.size(), Long::sum);
            }
        }
        return new KernelStrip(out);
    }

    /** @return the bytes of all of them */
    public long total() {
        return sections.values().stream().mapToLong(Long::longValue).sum();
    }
}
