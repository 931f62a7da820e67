package org.lkmpre.preresolve;

import java.util.List;
import java.util.Objects;
import org.lkmpre.kernel.KernelIdentity;

/**
 * The result of preresolving a set of modules against one kernel.
 *
 * @param kernelOrigin what the kernel's export table was read from
 * @param kernel       what identifies the kernel build the addresses belong to
 * @param modules      one report per module, in processing order
 */
public record Report(String kernelOrigin, KernelIdentity kernel, List<ModuleReport> modules) {
    /** Copies the list. */
    public Report {
        Objects.requireNonNull(kernelOrigin);
        Objects.requireNonNull(kernel);
        modules = List.copyOf(modules);
    }

    /** @return how many modules ended with {@code status} */
    public long count(ModuleStatus status) {
        return modules.stream().filter(m -> m.status() == status).count();
    }

    /** @return how many modules have every undefined symbol preresolved */
    public long fullyPreresolved() {
        return modules.stream().filter(ModuleReport::fully).count();
    }

    /** @return undefined symbols over all patched modules */
    public long undefinedSymbols() {
        return modules.stream().mapToLong(ModuleReport::undefined).sum();
    }

    /** @return preresolved symbols over all patched modules */
    public long preresolvedSymbols() {
        return modules.stream().mapToLong(ModuleReport::preresolved).sum();
    }

    /** @return true if any module was refused or failed */
    public boolean hasFailures() {
        return count(ModuleStatus.REFUSED) + count(ModuleStatus.FAILED) > 0;
    }

    /** @return the one-line summary that ends lkmpre's output */
    public String summary() {
        return String.format("lkmpre: %d modules: %d preresolved (%d fully), %d already preresolved, %d refused,"
                        + " %d failed; %d/%d symbols preresolved",
                modules.size(), count(ModuleStatus.PRERESOLVED), fullyPreresolved(),
                count(ModuleStatus.ALREADY_PRERESOLVED), count(ModuleStatus.REFUSED), count(ModuleStatus.FAILED),
                preresolvedSymbols(), undefinedSymbols());
    }
}
