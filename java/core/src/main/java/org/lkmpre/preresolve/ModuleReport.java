package org.lkmpre.preresolve;

import java.util.List;
import java.util.Objects;
import org.lkmpre.OneLine;

/**
 * The result for one module.
 *
 * @param path        the module as it is named in output (relative to the directory given)
 * @param status      what happened
 * @param undefined   undefined symbols the module asks for (named, index above 0)
 * @param preresolved how many of them are now {@code SHN_ABS}
 * @param unresolved  the symbols left {@code SHN_UNDEF}, in symbol table order, with reasons
 * @param message     why the module was refused or failed; "" otherwise
 */
public record ModuleReport(String path, ModuleStatus status, int undefined, int preresolved,
                           List<Unresolved> unresolved, String message) {
    /** Copies the list and checks the counts. */
    public ModuleReport {
        Objects.requireNonNull(path);
        Objects.requireNonNull(status);
        Objects.requireNonNull(message);
        unresolved = List.copyOf(unresolved);
        if (preresolved < 0 || preresolved > undefined) {
            throw new IllegalArgumentException(preresolved + "/" + undefined);
        }
    }

    /** @return a report for a module that was not patched */
    public static ModuleReport notPatched(String path, ModuleStatus status, String message) {
        return new ModuleReport(path, status, 0, 0, List.of(), message);
    }

    /** @return true if every undefined symbol was preresolved */
    public boolean fully() {
        return status == ModuleStatus.PRERESOLVED && preresolved == undefined;
    }

    /**
     * The module's line in lkmpre's stable output, for example
     * {@code PRERESV drivers/ata/libata.ko (205/232 preresolved)}.
     *
     * @return the line, without a line terminator; control characters in the path or message
     *         (a hostile module's {@code .modinfo} can hold any bytes) written as {@code \xNN}
     */
    public String line() {
        return OneLine.of(switch (status) {
            case PRERESOLVED -> "PRERESV " + path + " (" + preresolved + "/" + undefined
                    + (fully() ? " *fully* preresolved)" : " preresolved)");
            case ALREADY_PRERESOLVED -> "SKIPPED " + path + " (already preresolved)";
            case REFUSED -> "REFUSED " + path + " (" + message + ")";
            case FAILED -> "FAILED  " + path + " (" + message + ")";
        });
    }
}
