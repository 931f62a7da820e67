package org.lkmpre.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.lkmpre.InputFormatException;
import org.lkmpre.index.Resolver;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.preresolve.ModuleReport;
import org.lkmpre.preresolve.ModuleStatus;
import org.lkmpre.preresolve.ModuleTree;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.preresolve.Preresolver;
import org.lkmpre.preresolve.Unresolved;
import org.lkmpre.simulate.KernelStrip;
import org.lkmpre.simulate.LoadOrder;
import org.lkmpre.simulate.LoaderSimulator;
import org.lkmpre.simulate.ModuleFacts;
import org.lkmpre.simulate.Resolvers;
import org.lkmpre.simulate.Scenario;
import org.lkmpre.simulate.Simulation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lkmpre simulate}: load a module tree as the kernel would, with each lookup strategy, and measure. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = {"Load every module of a tree in dependency order and resolve its undefined symbols as the",
            "kernel's loader does (vmlinux's __ksymtab, __ksymtab_gpl, then the loaded modules, newest first),",
            "with each lookup strategy; print times per dependency class, counts, direct binding, kernel strip",
            "savings and init sections. Exit status: 0 done; 2 usage error or unusable input."})
final class SimulateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    KernelOptions kernelOptions;

    @Option(names = "--modules", paramLabel = "DIR", required = true,
            description = "the module tree (lib/modules/RELEASE); its modules.dep is used when present")
    Path modules;

    @Option(names = "--modules-dep", paramLabel = "FILE", description = "take dependencies from this modules.dep")
    Path modulesDep;

    @Option(names = "--computed-deps", description = "compute dependencies from symbols even if modules.dep exists")
    boolean computedDeps;

    @Option(names = "--strategy", paramLabel = "LIST", split = ",", defaultValue = "all",
            description = "linear, bsearch, sysv, sysv-prehashed, gnu, gnu-bloom, gnu-bloom-prehashed, preresolved, direct, or all")
    List<String> strategies;

    @Option(names = "--backend", paramLabel = "LIST", split = ",", defaultValue = "java,auto",
            description = "resolvers to time: java, ffm, jna, auto (the native one auto chooses); default java,auto")
    List<String> backends;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3", description = "timed passes per strategy; the least time counts")
    int rounds;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON")
    Path json;

    @Override
    public Integer call() throws Exception {
        KernelSymbols kernel = kernelOptions.read();
        if (!Files.isDirectory(modules)) {
            throw new InputFormatException(modules.toString(), "is not a directory");
        }
        List<Scenario> scenarios = strategies.contains("all") ? List.of(Scenario.values())
                : strategies.stream().map(Scenario::of).distinct().toList();
        Preresolver preresolver = Preresolver.create(kernel, new PreresolveOptions(true, true));
        List<Loaded> loaded = ModuleTree.collect(List.of(modules), Optional.empty()).targets().parallelStream()
                .map(t -> load(t, preresolver)).toList();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<ModuleFacts> facts = new ArrayList<>();
        List<Set<String>> left = new ArrayList<>();
        int fully = 0;
        for (Loaded l : loaded) {
            if (l.problem != null) {
                err.println("lkmpre: skipping " + l.problem);
                continue;
            }
            facts.add(l.facts);
            left.add(l.left);
            fully += l.fully ? 1 : 0;
        }
        Path dep = modulesDep != null ? modulesDep : modules.resolve("modules.dep");
        LoadOrder order = !computedDeps && (modulesDep != null || Files.isRegularFile(dep))
                ? LoadOrder.fromModulesDep(facts, dep) : LoadOrder.computed(facts, kernel);
        LoaderSimulator sim = LoaderSimulator.prepare(kernel, facts, order, left);
        List<Simulation.Run> runs = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (String b : backends) {
            try (Resolver r = Resolvers.open(b, sim.tables())) {
                if (!seen.add(r.name())) {
                    continue;
                }
                for (Scenario s : scenarios) {
                    runs.add(sim.run(r, s, rounds));
                }
            }
        }
        Simulation result = sim.summary(runs);
        Optional<KernelStrip> strip = KernelStrip.of(kernel);
        print(out, result, facts, fully, strip);
        out.flush();
        if (json != null) {
            SimulationJson.write(result, facts, fully, strip, json);
        }
        return 0;
    }

    /** One module read for the simulation, or why it could not be. */
    private record Loaded(ModuleFacts facts, Set<String> left, boolean fully, String problem) {
    }

    private static Loaded load(ModuleTree.Target t, Preresolver preresolver) {
        try {
            byte[] plain = t.readPlain();
            ModuleFacts facts = ModuleFacts.read(t.name(), plain);
            ModuleReport report = preresolver.preresolve(t.name(), plain).report();
            Set<String> left = report.status() == ModuleStatus.PRERESOLVED
                    ? report.unresolved().stream().map(Unresolved::symbol).collect(Collectors.toSet())
                    : Set.copyOf(facts.undefined());
            return new Loaded(facts, left, report.fully(), null);
        } catch (InputFormatException e) {
            return new Loaded(null, null, false, e.getMessage());
        } catch (IOException e) {
            return new Loaded(null, null, false, t.name() + ": " + e.getMessage());
        }
    }

    private static void print(PrintWriter out, Simulation s, List<ModuleFacts> facts, int fully, Optional<KernelStrip> strip) {
        out.printf(Locale.ROOT, "SIMULATE %d modules in dependency order (%s)%s%n", facts.size(), s.orderSource(),
                s.cycles().isEmpty() ? "" : ", " + s.cycles().size() + " dependency cycles broken: " + s.cycles());
        out.printf(Locale.ROOT, "references %d: vmlinux %d, modules %d, unresolved %d; modules by dependencies: 0 deps %d, 1 dep %d, >1 deps %d%n",
                s.references(), s.toVmlinux(), s.toModules(), s.unresolved(), s.modulesPerClass().get(0),
                s.modulesPerClass().get(1), s.modulesPerClass().get(2));
        out.printf(Locale.ROOT, "%-20s %-7s %11s %11s %11s %11s %26s %10s%n", "strategy", "backend", "0 deps ms", "1 dep ms",
                ">1 deps ms", "total ms", "gain vs linear % (0/1/>1)", "x bsearch");
        for (Simulation.Run r : s.runs()) {
            Optional<Simulation.Run> linear = find(s, Scenario.LINEAR, r.backend());
            Optional<Simulation.Run> bsearch = find(s, Scenario.BSEARCH, r.backend());
            String gain = linear.map(l -> gain(l, r, 0) + "/" + gain(l, r, 1) + "/" + gain(l, r, 2)).orElse("-");
            String vsB = bsearch.map(b -> String.format(Locale.ROOT, "%.2f", (double) b.totalNanos() / Math.max(1, r.totalNanos()))).orElse("-");
            out.printf(Locale.ROOT, "%-20s %-7s %11.3f %11.3f %11.3f %11.3f %26s %10s%n", r.scenario().label(), r.backend(),
                    ms(r.nanosPerClass().get(0)), ms(r.nanosPerClass().get(1)), ms(r.nanosPerClass().get(2)),
                    ms(r.totalNanos()), gain, vsB);
        }
        out.printf(Locale.ROOT, "%-20s %14s %14s %14s %14s%n", "counts", "probes", "compares", "bloom-rejected", "chain-steps");
        Set<Scenario> counted = new LinkedHashSet<>();
        for (Simulation.Run r : s.runs()) {
            if (counted.add(r.scenario())) {
                out.printf(Locale.ROOT, "%-20s %14d %14d %14d %14d%n", r.scenario().label(), r.probes(), r.stringCompares(),
                        r.bloomRejections(), r.chainSteps());
            }
        }
        out.printf(Locale.ROOT, "preresolve: %d of %d references left undefined; %d of %d modules fully preresolved%n",
                s.leftByPreresolve(), s.references(), fully, facts.size());
        out.printf(Locale.ROOT, "direct binding: %d of those bound to a depends= provider (%d to another module than the search finds first)%n",
                s.directlyBound(), s.directElsewhere());
        strip.ifPresent(k -> out.printf(Locale.ROOT, "kernel strip: %d bytes a kernel could drop if every module were fully preresolved: %s%n",
                k.total(), k.sections()));
        long initBytes = facts.stream().mapToLong(ModuleFacts::initBytes).sum();
        long withInit = facts.stream().filter(f -> f.initBytes() > 0).count();
        Map<String, long[]> refs = new TreeMap<>();
        for (ModuleFacts f : facts) {
            f.initRefs().forEach((sec, n) -> {
                long[] v = refs.computeIfAbsent(sec, k -> new long[2]);
                v[0]++;
                v[1] += n;
            });
        }
        out.printf(Locale.ROOT, "init sections: %d modules, %d bytes in .init*; relocations into init from: %s%n", withInit, initBytes,
                refs.isEmpty() ? "none" : refs.entrySet().stream()
                        .map(e -> e.getKey() + " " + e.getValue()[1] + " in " + e.getValue()[0] + " modules")
                        .collect(Collectors.joining(", ")));
    }

    private static Optional<Simulation.Run> find(Simulation s, Scenario scenario, String backend) {
        return s.runs().stream().filter(r -> r.scenario() == scenario && r.backend().equals(backend)).findFirst();
    }

    private static String gain(Simulation.Run linear, Simulation.Run r, int c) {
        long base = linear.nanosPerClass().get(c);
        return base == 0 ? "-" : String.format(Locale.ROOT, "%.1f", 100.0 * (base - r.nanosPerClass().get(c)) / base);
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
