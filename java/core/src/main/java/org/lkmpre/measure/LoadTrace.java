package org.lkmpre.measure;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.lkmpre.InputFormatException;

/**
 * What the device tool (native/tool/loadtime.sh) printed for one run: per round and module the
 * count and time of every traced module-loading function, insmod's status, and the untraced
 * wall-clock time of each round's load loop (docs/measure.md).
 *
 * @param kernel  the release the kernel reported
 * @param traced  the functions the kernel let the tool trace
 * @param calls   round (1-based) -> module file name -> function -> its calls in that insmod
 * @param status  round -> module file name -> insmod's exit status
 * @param wallNs  the untraced load loop's time, per round
 */
public record LoadTrace(String kernel, List<String> traced, Map<Integer, Map<String, Map<String, Calls>>> calls,
                        Map<Integer, Map<String, Integer>> status, List<Long> wallNs) {
    /**
     * One function's calls during one insmod.
     *
     * @param count how often it returned
     * @param ns    the time it took, in all
     */
    public record Calls(long count, long ns) {
    }

    /** Checks that no component is null. */
    public LoadTrace {
        Objects.requireNonNull(kernel);
        traced = List.copyOf(traced);
        calls = Map.copyOf(calls);
        status = Map.copyOf(status);
        wallNs = List.copyOf(wallNs);
    }

    /**
     * Parses the tool's output.
     *
     * @param file  name for messages
     * @param lines the output
     * @throws InputFormatException if it is not the tool's output or a record is malformed
     */
    public static LoadTrace parse(String file, List<String> lines) {
        if (lines.isEmpty() || !lines.get(0).equals("lkmpre-loadtime 1")) {
            throw new InputFormatException(file, "is not the output of lkmpre's loadtime.sh (first line 'lkmpre-loadtime 1')");
        }
        String kernel = "";
        List<String> traced = List.of();
        Map<Integer, Map<String, Map<String, Calls>>> calls = new LinkedHashMap<>();
        Map<Integer, Map<String, Integer>> status = new LinkedHashMap<>();
        List<Long> wall = new ArrayList<>();
        for (int n = 1; n < lines.size(); n++) {
            String[] f = lines.get(n).trim().split(" +");
            try {
                switch (f[0]) {
                    case "kernel" -> kernel = f.length > 1 ? f[1] : "";
                    case "traced" -> traced = List.of(f).subList(1, f.length);
                    case "T" -> calls.computeIfAbsent(Integer.parseInt(f[1]), r -> new LinkedHashMap<>())
                            .computeIfAbsent(f[2], m -> new LinkedHashMap<>())
                            .put(f[3], new Calls(Long.parseLong(f[4]), Long.parseLong(f[5])));
                    case "L" -> status.computeIfAbsent(Integer.parseInt(f[1]), r -> new LinkedHashMap<>())
                            .put(f[2], Integer.parseInt(f[3]));
                    case "W" -> wall.add(Long.parseLong(f[2]));
                    default -> throw new InputFormatException(file, "line " + (n + 1) + ": unknown record '" + f[0] + "'");
                }
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                throw new InputFormatException(file, "line " + (n + 1) + ": malformed record '" + lines.get(n) + "'");
            }
        }
        if (status.isEmpty()) {
            throw new InputFormatException(file, "holds no module loads");
        }
        return new LoadTrace(kernel, traced, calls, status, wall);
    }

    /** @return the rounds of the traced pass, in order */
    public List<Integer> rounds() {
        return status.keySet().stream().sorted().toList();
    }

    /** @return one function's calls while {@code module} loaded in {@code round} (none if it was not called) */
    public Calls calls(int round, String module, String function) {
        return calls.getOrDefault(round, Map.of()).getOrDefault(module, Map.of()).getOrDefault(function, new Calls(0, 0));
    }
}
