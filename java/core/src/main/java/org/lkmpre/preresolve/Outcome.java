package org.lkmpre.preresolve;

import java.util.Objects;
import org.lkmpre.elf.ElfPatch;

/**
 * What a backend decided for one module: one record per {@link ModuleStatus}, so that only a
 * preresolved module carries a patch.
 */
public sealed interface Outcome permits Outcome.Preresolved, Outcome.AlreadyPreresolved, Outcome.Refused, Outcome.Failed {
    /** @return what happened, as lkmpre reports it */
    ModuleReport report();

    /**
     * Symbols were preresolved (possibly none) and the module marked.
     *
     * @param report the report, status {@link ModuleStatus#PRERESOLVED}
     * @param patch  the rewrite to apply to the module's bytes
     */
    record Preresolved(ModuleReport report, ElfPatch patch) implements Outcome {
        /** Checks the status and that no component is null. */
        public Preresolved {
            Objects.requireNonNull(patch);
            expect(report, ModuleStatus.PRERESOLVED);
        }
    }

    /**
     * The module already carries a {@code .preresolved} section; it is left alone.
     *
     * @param report the report, status {@link ModuleStatus#ALREADY_PRERESOLVED}
     */
    record AlreadyPreresolved(ModuleReport report) implements Outcome {
        /** Checks the status. */
        public AlreadyPreresolved {
            expect(report, ModuleStatus.ALREADY_PRERESOLVED);
        }

        /** @param path how to name the module */
        public AlreadyPreresolved(String path) {
            this(ModuleReport.notPatched(path, ModuleStatus.ALREADY_PRERESOLVED, ""));
        }
    }

    /**
     * lkmpre declined to patch the module.
     *
     * @param report the report, status {@link ModuleStatus#REFUSED}, its message the reason
     */
    record Refused(ModuleReport report) implements Outcome {
        /** Checks the status. */
        public Refused {
            expect(report, ModuleStatus.REFUSED);
        }

        /**
         * @param path   how to name the module
         * @param reason why it was refused
         */
        public Refused(String path, String reason) {
            this(ModuleReport.notPatched(path, ModuleStatus.REFUSED, reason));
        }
    }

    /**
     * The module could not be read or is malformed.
     *
     * @param report the report, status {@link ModuleStatus#FAILED}, its message the reason
     */
    record Failed(ModuleReport report) implements Outcome {
        /** Checks the status. */
        public Failed {
            expect(report, ModuleStatus.FAILED);
        }

        /**
         * @param path   how to name the module
         * @param reason what is wrong with it
         */
        public Failed(String path, String reason) {
            this(ModuleReport.notPatched(path, ModuleStatus.FAILED, reason));
        }
    }

    private static void expect(ModuleReport report, ModuleStatus status) {
        if (report.status() != status) {
            throw new IllegalArgumentException("a " + status + " outcome with a " + report.status() + " report");
        }
    }
}
