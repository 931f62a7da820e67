package org.lkmpre.simulate;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.index.LookupStats;
import org.lkmpre.index.Queries;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.Strategy;
import org.lkmpre.index.TableSet;
import org.lkmpre.kernel.ExportKind;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelIdentity;
import org.lkmpre.kernel.KernelSymbols;

/**
 * Loads a whole module tree in dependency order, as the kernel's loader would, and resolves every
 * undefined symbol: vmlinux's {@code __ksymtab}, then its {@code __ksymtab_gpl}, then the tables
 * of the modules loaded so far, newest first (the kernel adds each module at the head of its
 * list). Each table is an export index, so every strategy runs on the same tables; a
 * {@link Resolver} (Java or the C core) does the lookups, and every run must give the answers of
 * the reference pass made here with the Java resolver.
 */
public final class LoaderSimulator {
    private static final int ALL = 0;
    private static final int PRERESOLVED = 1;
    private static final int DIRECT = 2;

    /**
     * One set of queries (all references; those the preresolver left; those with direct binding).
     *
     * @param queries the queries, module by module in load order
     * @param starts  per load position the module's first query, and the end at position n
     * @param answers the reference answers: table and entry per query
     */
    private record QuerySet(Queries queries, int[] starts, int[] answers) {
    }

    private final TableSet tables;
    private final QuerySet[] sets;
    /** Dependency class (0, 1, 2 for more) per load position. */
    private final int[] classOf;
    private final LoadOrder order;

    private LoaderSimulator(TableSet tables, QuerySet[] sets, LoadOrder order, int[] classOf) {
        this.tables = tables;
        this.sets = sets;
        this.order = order;
        this.classOf = classOf;
    }

    /**
     * Prepares a simulation.
     *
     * @param kernel          vmlinux's exports
     * @param modules         the modules
     * @param order           their load order
     * @param leftUndefined   per module (same positions), the names the preresolver leaves
     *                        undefined; the others are absolute in the preresolved scenarios
     * @return the simulator, with its reference answers computed
     */
    public static LoaderSimulator prepare(KernelSymbols kernel, List<ModuleFacts> modules, LoadOrder order,
                                          List<Set<String>> leftUndefined) {
        int n = modules.size();
        List<byte[]> tables = new ArrayList<>();
        tables.add(index(kernel, kernel.exports().stream().filter(e -> e.kind() == ExportKind.EXPORT_SYMBOL).toList()));
        tables.add(index(kernel, kernel.exports().stream().filter(e -> e.kind() == ExportKind.EXPORT_SYMBOL_GPL).toList()));
        int prefix = tables.size();
        // Module tables newest first: load position n-1 first, so the modules loaded before
        // position p are the last slots of the array.
        int[] slotStart = new int[n];
        int[] slotCount = new int[n];
        for (int p = n - 1; p >= 0; p--) {
            int m = order.order().get(p);
            slotStart[m] = tables.size();
            ModuleFacts f = modules.get(m);
            if (!f.exports().isEmpty()) {
                tables.add(index(kernel, exports(f.exports(), ExportKind.EXPORT_SYMBOL)));
            }
            if (!f.gplExports().isEmpty()) {
                tables.add(index(kernel, exports(f.gplExports(), ExportKind.EXPORT_SYMBOL_GPL)));
            }
            slotCount[m] = tables.size() - slotStart[m];
        }
        int total = tables.size();
        Map<String, Integer> byName = LoadOrder.byName(modules);
        List<Set<String>> exported = modules.stream().map(f -> {
            Set<String> all = new HashSet<>(f.exports());
            all.addAll(f.gplExports());
            return all;
        }).toList();
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        int[] classOf = new int[n];
        int[] loadedSlots = new int[n + 1];
        for (int p = 0; p < n; p++) {
            int m = order.order().get(p);
            loadedSlots[p + 1] = loadedSlots[p] + slotCount[m];
        }
        Queries[] sets = {new Queries(), new Queries(), new Queries()};
        int[][] starts = new int[3][n + 1];
        for (int p = 0; p < n; p++) {
            int m = order.order().get(p);
            ModuleFacts f = modules.get(m);
            classOf[p] = Math.min(f.depends().size(), 2);
            for (int s = 0; s < 3; s++) {
                starts[s][p] = sets[s].size();
            }
            int first = total - loadedSlots[p];
            Set<String> left = leftUndefined.get(m);
            for (String name : f.undefined()) {
                byte[] bytes = name.getBytes(StandardCharsets.ISO_8859_1);
                int off = names.size();
                names.write(bytes, 0, bytes.length);
                sets[ALL].add(bytes, off, prefix, first, loadedSlots[p]);
                if (left.contains(name)) {
                    sets[PRERESOLVED].add(bytes, off, prefix, first, loadedSlots[p]);
                    Optional<Integer> provider = f.depends().stream().map(byName::get)
                            .filter(d -> d != null && exported.get(d).contains(name)).findFirst();
                    if (provider.isPresent()) {
                        int d = provider.get();
                        sets[DIRECT].add(bytes, off, 0, slotStart[d], slotCount[d]);
                    } else {
                        sets[DIRECT].add(bytes, off, prefix, first, loadedSlots[p]);
                    }
                }
            }
        }
        TableSet tableSet = new TableSet(tables, names.toByteArray());
        QuerySet[] done = new QuerySet[3];
        try (Resolver reference = Resolver.java(tableSet)) {
            for (int s = 0; s < 3; s++) {
                starts[s][n] = sets[s].size();
                int[] answers = new int[2 * sets[s].size()];
                reference.resolve(sets[s], 0, sets[s].size(), Strategy.GNU_BLOOM, false, answers, null);
                done[s] = new QuerySet(sets[s], starts[s], answers);
            }
        }
        return new LoaderSimulator(tableSet, done, order, classOf);
    }

    private static List<ExportedSymbol> exports(List<String> names, ExportKind kind) {
        return names.stream().map(s -> new ExportedSymbol(s, 0, OptionalLong.empty(), kind, "")).toList();
    }

    private static byte[] index(KernelSymbols kernel, List<ExportedSymbol> exports) {
        return KernelIndex.write(KernelSymbols.of(kernel.origin(), exports, Map.of(), KernelIdentity.UNKNOWN,
                Optional.empty(), kernel.wordSize(), kernel.machine()));
    }

    /** @return the tables and names a resolver searches */
    public TableSet tables() {
        return tables;
    }

    /** @return the load order simulated */
    public LoadOrder order() {
        return order;
    }

    private static int set(Scenario s) {
        return s == Scenario.PRERESOLVED ? PRERESOLVED : s == Scenario.DIRECT ? DIRECT : ALL;
    }

    /**
     * Runs one scenario: a counting pass checked against the reference answers, then
     * {@code rounds} timed passes, each timing the modules of one dependency class together.
     *
     * @param resolver the resolver, over {@link #tables()}
     * @param scenario the scenario
     * @param rounds   timed passes (at least 1); the least time of each class is kept
     * @return the run
     * @throws IllegalStateException if the resolver's answer differs from the reference's
     */
    public Simulation.Run run(Resolver resolver, Scenario scenario, int rounds) {
        QuerySet set = sets[set(scenario)];
        Queries q = set.queries();
        int[] start = set.starts();
        int n = classOf.length;
        int[] out = new int[2 * Math.max(1, maxBatch(start))];
        LookupStats stats = new LookupStats();
        Strategy strategy = scenario.strategy();
        boolean hashed = scenario.prehashed();
        for (int p = 0; p < n; p++) {
            resolver.resolve(q, start[p], start[p + 1], strategy, hashed, out, stats);
            int mismatch = Arrays.mismatch(out, 0, 2 * (start[p + 1] - start[p]), set.answers(), 2 * start[p], 2 * start[p + 1]);
            if (mismatch >= 0) {
                throw new IllegalStateException(resolver.name() + " " + scenario.label() + " answers query "
                        + (start[p] + mismatch / 2) + " differently from the reference");
            }
        }
        long[] best = new long[3];
        Arrays.fill(best, Long.MAX_VALUE);
        for (int r = 0; r < Math.max(1, rounds); r++) {
            for (int c = 0; c < 3; c++) {
                long t0 = System.nanoTime();
                for (int p = 0; p < n; p++) {
                    if (classOf[p] == c) {
                        resolver.resolve(q, start[p], start[p + 1], strategy, hashed, out, null);
                    }
                }
                best[c] = Math.min(best[c], System.nanoTime() - t0);
            }
        }
        return new Simulation.Run(scenario, resolver.name(), List.of(best[0], best[1], best[2]), stats.lookups,
                stats.stringCompares, stats.bloomRejections, stats.chainSteps);
    }

    private static int maxBatch(int[] start) {
        int max = 0;
        for (int p = 0; p + 1 < start.length; p++) {
            max = Math.max(max, start[p + 1] - start[p]);
        }
        return max;
    }

    /**
     * @param runs the runs made
     * @return the simulation's summary with those runs
     */
    public Simulation summary(List<Simulation.Run> runs) {
        long vmlinux = 0;
        long modules = 0;
        long unresolved = 0;
        int[] all = sets[ALL].answers();
        for (int i = 0; i < all.length; i += 2) {
            if (all[i] == Resolver.NOT_FOUND) {
                unresolved++;
            } else if (all[i] < 2) {
                vmlinux++;
            } else {
                modules++;
            }
        }
        long bound = 0;
        long elsewhere = 0;
        int[] direct = sets[DIRECT].queries().packed();
        for (int i = 0; i < sets[DIRECT].queries().size(); i++) {
            // A query searched without the vmlinux prefix was bound to its provider.
            if (direct[Queries.FIELDS * i + 4] == 0) {
                bound++;
                elsewhere += sets[DIRECT].answers()[2 * i] != sets[PRERESOLVED].answers()[2 * i] ? 1 : 0;
            }
        }
        int[] perClass = new int[3];
        for (int c : classOf) {
            perClass[c]++;
        }
        return new Simulation(order.source(), order.cycles(), List.of(perClass[0], perClass[1], perClass[2]),
                sets[ALL].queries().size(), vmlinux, modules, unresolved, sets[PRERESOLVED].queries().size(), bound, elsewhere,
                runs);
    }
}
