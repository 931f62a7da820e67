package org.lkmpre.simulate;

import java.util.List;

/**
 * What the loader simulator measured on one module tree.
 *
 * @param orderSource       where dependencies came from: "modules.dep" or "computed"
 * @param cycles            dependency cycles found (module names)
 * @param modulesPerClass   modules with 0, 1 and more than 1 dependencies ({@code depends=})
 * @param references        undefined-symbol references resolved
 * @param toVmlinux         of them, found in vmlinux
 * @param toModules         found in another module
 * @param unresolved        found nowhere
 * @param leftByPreresolve  references the preresolver left undefined (all others are absolute)
 * @param directlyBound     of those, bound to a provider named by {@code depends=}
 * @param directElsewhere   directly bound references whose provider is not the module the full
 *                          search finds first (a symbol exported by two modules)
 * @param runs              one per scenario and backend measured
 */
public record Simulation(String orderSource, List<List<String>> cycles, List<Integer> modulesPerClass, long references,
                         long toVmlinux, long toModules, long unresolved, long leftByPreresolve, long directlyBound,
                         long directElsewhere, List<Run> runs) {
    /** Copies the lists. */
    public Simulation {
        cycles = cycles.stream().map(List::copyOf).toList();
        modulesPerClass = List.copyOf(modulesPerClass);
        runs = List.copyOf(runs);
    }

    /** Dependency classes, as the seeds grouped modules. */
    public static final List<String> CLASSES = List.of("0 deps", "1 dep", ">1 deps");

    /**
     * One scenario on one backend.
     *
     * @param scenario        the scenario
     * @param backend         "java", "ffm" or "jna"
     * @param nanosPerClass   resolution time of the modules of each dependency class (the least
     *                        over the timed rounds)
     * @param probes          table probes
     * @param stringCompares  names compared
     * @param bloomRejections probes the Bloom filter answered
     * @param chainSteps      hash chain entries visited
     */
    public record Run(Scenario scenario, String backend, List<Long> nanosPerClass, long probes, long stringCompares,
                      long bloomRejections, long chainSteps) {
        /** Copies the list. */
        public Run {
            nanosPerClass = List.copyOf(nanosPerClass);
        }

        /** @return the time of all classes together */
        public long totalNanos() {
            return nanosPerClass.stream().mapToLong(Long::longValue).sum();
        }
    }
}
