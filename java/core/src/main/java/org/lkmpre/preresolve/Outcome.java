package org.lkmpre.preresolve;

import java.util.Objects;
import java.util.Optional;
import org.lkmpre.elf.ElfPatch;

/**
 * What a backend decided for one module.
 *
 * @param report what happened
 * @param patch  the rewrite to apply to the module's bytes, when there is one
 */
public record Outcome(ModuleReport report, Optional<ElfPatch> patch) {
    /** Checks that no component is null. */
    public Outcome {
        Objects.requireNonNull(report);
        Objects.requireNonNull(patch);
    }
}
