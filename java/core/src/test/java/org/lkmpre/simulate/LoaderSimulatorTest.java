package org.lkmpre.simulate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.lkmpre.index.LookupStats;
import org.lkmpre.index.Queries;
import org.lkmpre.index.Resolver;
import org.lkmpre.index.Strategy;
import org.lkmpre.kernel.ExportKind;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelIdentity;
import org.lkmpre.kernel.KernelSymbols;

class LoaderSimulatorTest {
    private static final KernelSymbols KERNEL = KernelSymbols.of("test", List.of(
            new ExportedSymbol("printk", 0x1000, OptionalLong.empty(), ExportKind.EXPORT_SYMBOL, ""),
            new ExportedSymbol("gpl_only", 0x2000, OptionalLong.empty(), ExportKind.EXPORT_SYMBOL_GPL, "")),
            Map.of(), KernelIdentity.UNKNOWN, Optional.empty(), 8, 62);

    private static ModuleFacts module(String name, List<String> depends, List<String> undefined, List<String> exports,
                                      List<String> gpl) {
        return new ModuleFacts("kernel/" + name + ".ko", name, depends, undefined, exports, gpl, 0, Map.of());
    }

    /** core exports x and (GPL) y; user needs printk, gpl_only, x, y and a symbol nobody has; other exports x too. */
    private static final List<ModuleFacts> TREE = List.of(
            module("user", List.of("core"), List.of("printk", "x", "gpl_only", "y", "nowhere"), List.of(), List.of()),
            module("core", List.of(), List.of("printk"), List.of("x"), List.of("y")),
            module("other", List.of(), List.of(), List.of("x", "z"), List.of()));

    @Test
    void computedOrderLoadsProvidersFirst() {
        LoadOrder order = LoadOrder.computed(TREE, KERNEL);
        assertEquals("computed", order.source());
        assertTrue(order.order().indexOf(1) < order.order().indexOf(0), order.order().toString());
        assertEquals(List.of(1), order.depends().get(0), "user depends on core, the first exporter of x and of y");
        assertEquals(List.of(), order.cycles());
    }

    @Test
    void cyclesAreFoundAndBroken() {
        List<ModuleFacts> tree = List.of(
                module("a", List.of(), List.of("from_b"), List.of("from_a"), List.of()),
                module("b", List.of(), List.of("from_c"), List.of("from_b"), List.of()),
                module("c", List.of(), List.of("from_a"), List.of("from_c"), List.of()));
        LoadOrder order = LoadOrder.computed(tree, KERNEL);
        assertEquals(List.of(List.of("a", "b", "c")), order.cycles());
        assertEquals(3, order.order().size());
    }

    @Test
    void resolvesAsTheKernelSearches() {
        LoadOrder order = LoadOrder.computed(TREE, KERNEL);
        // The preresolver made printk and gpl_only absolute.
        LoaderSimulator sim = LoaderSimulator.prepare(KERNEL, TREE, order,
                List.of(Set.of("x", "y", "nowhere"), Set.of(), Set.of()));
        List<Simulation.Run> runs = new java.util.ArrayList<>();
        try (Resolver java = Resolver.java(sim.tables())) {
            for (Scenario s : Scenario.values()) {
                runs.add(sim.run(java, s, 1));
            }
        }
        Simulation result = sim.summary(runs);
        assertEquals(6, result.references());
        assertEquals(3, result.toVmlinux(), "printk twice, gpl_only once");
        assertEquals(2, result.toModules());
        assertEquals(1, result.unresolved());
        assertEquals(3, result.leftByPreresolve());
        assertEquals(2, result.directlyBound(), "x and y are core's, named by depends=");
        Map<Scenario, Simulation.Run> by = new java.util.EnumMap<>(Scenario.class);
        runs.forEach(r -> by.put(r.scenario(), r));
        assertEquals(by.get(Scenario.GNU).probes(), by.get(Scenario.LINEAR).probes(), "same tables probed");
        assertTrue(by.get(Scenario.GNU_BLOOM).bloomRejections() > 0);
        assertTrue(by.get(Scenario.PRERESOLVED).probes() < by.get(Scenario.GNU_BLOOM).probes());
        assertTrue(by.get(Scenario.DIRECT).probes() < by.get(Scenario.PRERESOLVED).probes());
        assertTrue(by.get(Scenario.LINEAR).stringCompares() > by.get(Scenario.GNU).stringCompares());
    }

    @Test
    void newestModuleIsSearchedFirst() {
        // "other" and "core" both export x; loaded core, other, user: the search meets other first.
        List<ModuleFacts> tree = List.of(TREE.get(1), TREE.get(2), TREE.get(0));
        LoadOrder order = new LoadOrder(List.of(0, 1, 2), List.of(List.of(), List.of(), List.of(0)), "given", List.of());
        LoaderSimulator sim = LoaderSimulator.prepare(KERNEL, tree, order, List.of(Set.of(), Set.of(), Set.of("x")));
        try (Resolver java = Resolver.java(sim.tables())) {
            sim.run(java, Scenario.DIRECT, 1);
        }
        Simulation s = sim.summary(List.of());
        assertEquals(1, s.directlyBound());
        assertEquals(1, s.directElsewhere(), "direct binding picks core (depends=), the search finds other");
    }

    @Test
    void aWrongAnswerFailsTheRun() {
        LoadOrder order = LoadOrder.computed(TREE, KERNEL);
        LoaderSimulator sim = LoaderSimulator.prepare(KERNEL, TREE, order, List.of(Set.of(), Set.of(), Set.of()));
        try (Resolver java = Resolver.java(sim.tables())) {
            Resolver liar = new Resolver() {
                @Override
                public String name() {
                    return "liar";
                }

                @Override
                public void resolve(Queries q, int from, int to, Strategy s, boolean h, int[] out, LookupStats st) {
                    java.resolve(q, from, to, s, h, out, st);
                    if (to > from) {
                        out[1]++;
                    }
                }

                @Override
                public void close() {
                }
            };
            assertThrows(IllegalStateException.class, () -> sim.run(liar, Scenario.BSEARCH, 1));
        }
    }
}
