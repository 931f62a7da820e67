package org.lkmpre.measure;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * The kernel's own measurement of stock against preresolved modules (two {@link LoadTrace}s of the
 * same modules), in the seeds' terms: per dependency class (0, 1, more {@code depends=} entries)
 * the gain in symbol resolution and in module loading, and where {@code load_module} spends its
 * time. Times are medians over rounds, gains with their spread; the lookup counts of round 1 are
 * set against lkmpre's own counts, which they must equal.
 *
 * @param kernel          the kernel release
 * @param modules         modules measured
 * @param rounds          traced rounds
 * @param lookupFunction  the function counted as a symbol lookup: resolve_symbol, else find_symbol
 * @param undefined       lkmpre's count of undefined symbols in the stock modules
 * @param preresolved     of those, how many lkmpre preresolved
 * @param stock           the stock run
 * @param preresolvedRun  the preresolved run
 * @param classes         gains per dependency class
 * @param breakdown       each traced function's time per round, both runs (median)
 * @param counts          the deterministic check
 */
public record Measurement(String kernel, int modules, int rounds, String lookupFunction, long undefined, long preresolved,
                          Side stock, Side preresolvedRun, List<ClassGain> classes, List<FunctionCost> breakdown,
                          CountCheck counts) {
    /** Dependency classes, as the seeds and {@code lkmpre simulate} count them. */
    public static final List<String> CLASSES = List.of("0", "1", ">1");

    /**
     * What lkmpre knows of one measured module.
     *
     * @param deps          its {@code depends=} entries
     * @param undefined     its undefined symbols (stock)
     * @param leftUndefined those lkmpre left undefined
     */
    public record ModuleInfo(int deps, long undefined, long leftUndefined) {
    }

    /**
     * One run, per round (median over rounds).
     *
     * @param lookups  calls of the lookup function
     * @param lookupNs their time
     * @param loadNs   {@code load_module} without {@code do_init_module}
     * @param initNs   {@code do_init_module}
     * @param wallNs   the untraced load loop
     */
    public record Side(long lookups, long lookupNs, long loadNs, long initNs, long wallNs) {
    }

    /**
     * Gains of one dependency class, in percent: median, lowest and highest over rounds.
     *
     * @param deps    the class: "0", "1", ">1"
     * @param modules modules in it
     * @param lookup  symbol resolution time gained
     * @param load    module loading time ({@code load_module} without init) gained
     */
    public record ClassGain(String deps, int modules, Spread lookup, Spread load) {
    }

    /**
     * A value over rounds.
     *
     * @param median the median
     * @param min    the lowest
     * @param max    the highest
     */
    public record Spread(double median, double min, double max) {
        static Spread of(List<Double> values) {
            List<Double> v = values.stream().sorted().toList();
            return v.isEmpty() ? new Spread(0, 0, 0) : new Spread(v.get(v.size() / 2), v.get(0), v.get(v.size() - 1));
        }
    }

    /**
     * One traced function's time per round (median), both runs.
     *
     * @param function    its name
     * @param stockNs     in the stock run
     * @param preresolvedNs in the preresolved run
     */
    public record FunctionCost(String function, long stockNs, long preresolvedNs) {
    }

    /**
     * Round 1's lookups against lkmpre's counts, over the modules that loaded in both runs.
     *
     * @param modules        modules compared
     * @param stockKernel    the kernel's lookups, stock
     * @param stockLkmpre    lkmpre's undefined symbols of those modules
     * @param preKernel      the kernel's lookups, preresolved
     * @param preLkmpre      lkmpre's left-undefined symbols of those modules
     * @param differing      modules whose counts differ, with both counts
     */
    public record CountCheck(int modules, long stockKernel, long stockLkmpre, long preKernel, long preLkmpre,
                             List<String> differing) {
        /** @return true if the kernel looked up exactly what lkmpre says is undefined, in both runs */
        public boolean matches() {
            return stockKernel == stockLkmpre && preKernel == preLkmpre && differing.isEmpty();
        }
    }

    /**
     * Compares two runs of the same modules.
     *
     * @param stock       the stock run
     * @param preresolved the preresolved run
     * @param info        module file name -> what lkmpre knows of it
     */
    public static Measurement of(LoadTrace stock, LoadTrace preresolved, Map<String, ModuleInfo> info) {
        String lookup = stock.traced().contains("resolve_symbol") ? "resolve_symbol" : "find_symbol";
        List<Integer> rounds = stock.rounds().stream().filter(preresolved.rounds()::contains).toList();
        List<String> modules = stock.status().get(rounds.get(0)).keySet().stream().filter(info::containsKey).toList();
        long undefined = modules.stream().mapToLong(m -> info.get(m).undefined()).sum();
        long left = modules.stream().mapToLong(m -> info.get(m).leftUndefined()).sum();

        List<ClassGain> classes = new ArrayList<>();
        for (int c = 0; c < CLASSES.size(); c++) {
            int klass = c;
            List<String> in = modules.stream().filter(m -> Math.min(info.get(m).deps(), 2) == klass).toList();
            List<Double> lookupGain = new ArrayList<>();
            List<Double> loadGain = new ArrayList<>();
            for (int r : rounds) {
                List<String> loaded = in.stream().filter(m -> loadedInBoth(stock, preresolved, r, m)).toList();
                lookupGain.add(gain(sum(stock, r, loaded, lookup), sum(preresolved, r, loaded, lookup)));
                loadGain.add(gain(load(stock, r, loaded), load(preresolved, r, loaded)));
            }
            classes.add(new ClassGain(CLASSES.get(c), in.size(), Spread.of(lookupGain), Spread.of(loadGain)));
        }

        Set<String> functions = new LinkedHashSet<>(stock.traced());
        functions.addAll(preresolved.traced());
        List<FunctionCost> breakdown = new ArrayList<>();
        for (String f : functions) {
            breakdown.add(new FunctionCost(f, median(rounds, r -> sum(stock, r, modules, f)),
                    median(rounds, r -> sum(preresolved, r, modules, f))));
        }
        breakdown.sort(Comparator.comparingLong(FunctionCost::stockNs).reversed());

        int first = rounds.get(0);
        List<String> compared = modules.stream().filter(m -> loadedInBoth(stock, preresolved, first, m)).toList();
        List<String> differing = new ArrayList<>();
        for (String m : compared) {
            long s = stock.calls(first, m, lookup).count();
            long p = preresolved.calls(first, m, lookup).count();
            if (s != info.get(m).undefined() || p != info.get(m).leftUndefined()) {
                differing.add(m + " (kernel " + s + "/" + p + ", lkmpre " + info.get(m).undefined() + "/"
                        + info.get(m).leftUndefined() + ")");
            }
        }
        CountCheck counts = new CountCheck(compared.size(),
                compared.stream().mapToLong(m -> stock.calls(first, m, lookup).count()).sum(),
                compared.stream().mapToLong(m -> info.get(m).undefined()).sum(),
                compared.stream().mapToLong(m -> preresolved.calls(first, m, lookup).count()).sum(),
                compared.stream().mapToLong(m -> info.get(m).leftUndefined()).sum(), differing);
        return new Measurement(stock.kernel(), modules.size(), rounds.size(), lookup, undefined, undefined - left,
                side(stock, rounds, modules, lookup), side(preresolved, rounds, modules, lookup), classes, breakdown, counts);
    }

    private static Side side(LoadTrace t, List<Integer> rounds, List<String> modules, String lookup) {
        List<Long> wall = t.wallNs().stream().sorted().toList();
        return new Side(median(rounds, r -> modules.stream().mapToLong(m -> t.calls(r, m, lookup).count()).sum()),
                median(rounds, r -> sum(t, r, modules, lookup)), median(rounds, r -> load(t, r, modules)),
                median(rounds, r -> sum(t, r, modules, "do_init_module")), wall.isEmpty() ? 0 : wall.get(wall.size() / 2));
    }

    private static boolean loadedInBoth(LoadTrace a, LoadTrace b, int round, String module) {
        return a.status().getOrDefault(round, Map.of()).getOrDefault(module, -1) == 0
                && b.status().getOrDefault(round, Map.of()).getOrDefault(module, -1) == 0;
    }

    private static long sum(LoadTrace t, int round, List<String> modules, String function) {
        return modules.stream().mapToLong(m -> t.calls(round, m, function).ns()).sum();
    }

    /** {@code load_module} without {@code do_init_module}, which it calls: the module's own init is not loading. */
    private static long load(LoadTrace t, int round, List<String> modules) {
        return sum(t, round, modules, "load_module") - sum(t, round, modules, "do_init_module");
    }

    private static double gain(long stock, long preresolved) {
        return stock == 0 ? 0 : 100.0 * (stock - preresolved) / stock;
    }

    private static long median(List<Integer> rounds, ToLongFunction<Integer> value) {
        List<Long> v = rounds.stream().map(value::applyAsLong).sorted().toList();
        return v.get(v.size() / 2);
    }
}
