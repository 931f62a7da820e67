package org.lkmpre.simulate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lkmpre.InputFormatException;
import org.lkmpre.kernel.KernelSymbols;

/**
 * The order in which a whole module tree is loaded: every module after the modules it depends
 * on. Dependencies come from {@code modules.dep} when the tree has one (as modprobe reads them),
 * else they are computed from undefined symbols and exports, as depmod computes them.
 *
 * @param order   positions in the module list, in load order
 * @param depends each module's dependencies (positions), as used
 * @param source  "modules.dep" or "computed"
 * @param cycles  dependency cycles found (module names); each was broken at its last edge
 */
public record LoadOrder(List<Integer> order, List<List<Integer>> depends, String source, List<List<String>> cycles) {
    /** Copies the lists. */
    public LoadOrder {
        order = List.copyOf(order);
        depends = depends.stream().map(List::copyOf).toList();
        cycles = cycles.stream().map(List::copyOf).toList();
    }

    /**
     * Orders modules with the dependencies of a {@code modules.dep} file.
     *
     * @param modules    the modules
     * @param modulesDep the file
     * @return the order
     * @throws IOException          if the file cannot be read
     * @throws InputFormatException if a line is malformed
     */
    public static LoadOrder fromModulesDep(List<ModuleFacts> modules, Path modulesDep) throws IOException {
        Map<String, Integer> byName = byName(modules);
        List<List<Integer>> depends = new ArrayList<>();
        for (int i = 0; i < modules.size(); i++) {
            depends.add(new ArrayList<>());
        }
        int lineNo = 0;
        for (String line : Files.readAllLines(modulesDep, StandardCharsets.ISO_8859_1)) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new InputFormatException(modulesDep.toString(), "line " + lineNo + " has no \"module:\"");
            }
            Integer m = byName.get(ModuleFacts.fileModuleName(line.substring(0, colon)));
            if (m == null) {
                continue;
            }
            for (String dep : line.substring(colon + 1).trim().split("\\s+")) {
                Integer d = dep.isEmpty() ? null : byName.get(ModuleFacts.fileModuleName(dep));
                if (d != null && !d.equals(m)) {
                    depends.get(m).add(d);
                }
            }
        }
        return sort(modules, depends, "modules.dep");
    }

    /**
     * Orders modules with dependencies computed from symbols: a module depends on the module that
     * exports a symbol it needs and vmlinux does not export (the first such module in list order).
     *
     * @param modules the modules
     * @param kernel  vmlinux's exports
     * @return the order
     */
    public static LoadOrder computed(List<ModuleFacts> modules, KernelSymbols kernel) {
        Map<String, Integer> provider = providers(modules);
        List<List<Integer>> depends = new ArrayList<>();
        for (int m = 0; m < modules.size(); m++) {
            Set<Integer> deps = new LinkedHashSet<>();
            for (String name : modules.get(m).undefined()) {
                Integer p = kernel.find(name).isPresent() ? null : provider.get(name);
                if (p != null && p != m) {
                    deps.add(p);
                }
            }
            depends.add(new ArrayList<>(deps));
        }
        return sort(modules, depends, "computed");
    }

    /** Symbol name to the first module (list position) exporting it. */
    static Map<String, Integer> providers(List<ModuleFacts> modules) {
        Map<String, Integer> provider = new HashMap<>();
        for (int m = 0; m < modules.size(); m++) {
            for (String name : modules.get(m).exports()) {
                provider.putIfAbsent(name, m);
            }
            for (String name : modules.get(m).gplExports()) {
                provider.putIfAbsent(name, m);
            }
        }
        return provider;
    }

    static Map<String, Integer> byName(List<ModuleFacts> modules) {
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < modules.size(); i++) {
            byName.putIfAbsent(modules.get(i).name(), i);
        }
        return byName;
    }

    /** Depth-first: each module after its dependencies; an edge back into the current path is a cycle. */
    private static LoadOrder sort(List<ModuleFacts> modules, List<List<Integer>> depends, String source) {
        int n = modules.size();
        int[] state = new int[n]; // 0 new, 1 on the path, 2 done
        List<Integer> order = new ArrayList<>(n);
        List<List<String>> cycles = new ArrayList<>();
        int[] path = new int[n];
        int[] next = new int[n];
        for (int root = 0; root < n; root++) {
            if (state[root] != 0) {
                continue;
            }
            int depth = 0;
            path[0] = root;
            next[0] = 0;
            state[root] = 1;
            while (depth >= 0) {
                int m = path[depth];
                List<Integer> deps = depends.get(m);
                if (next[depth] < deps.size()) {
                    int d = deps.get(next[depth]++);
                    if (state[d] == 0) {
                        state[d] = 1;
                        path[++depth] = d;
                        next[depth] = 0;
                    } else if (state[d] == 1) {
                        List<String> cycle = new ArrayList<>();
                        int from = depth;
                        while (path[from] != d) {
                            from--;
                        }
                        for (int k = from; k <= depth; k++) {
                            cycle.add(modules.get(path[k]).name());
                        }
                        cycles.add(cycle);
                    }
                } else {
                    state[m] = 2;
                    order.add(m);
                    depth--;
                }
            }
        }
        return new LoadOrder(order, depends, source, cycles);
    }
}
