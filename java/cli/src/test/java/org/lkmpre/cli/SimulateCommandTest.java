package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lkmpre.preresolve.Backends;

class SimulateCommandTest {
    @TempDir
    Path tmp;

    private static String[] args(Path fx, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("simulate", "--kernel", fx.resolve("boot/vmlinux").toString(),
                "--modules", fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture").toString(), "--rounds", "1"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** Every strategy on every backend here: the same answers (checked inside) and the same counts. */
    @Test
    void everyBackendCountsTheSame() throws Exception {
        Path fx = CliRun.fixtures();
        List<String> backends = new java.util.ArrayList<>(List.of("java"));
        Backends.all().forEach((name, why) -> {
            if (why.isEmpty() && !name.equals("java")) {
                backends.add(name);
            }
        });
        Path json = tmp.resolve("sim.json");
        CliRun run = CliRun.of(args(fx, "--backend", String.join(",", backends), "--json", json.toString()));
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().startsWith("SIMULATE 13 modules in dependency order (computed)"), run.out());
        assertTrue(run.out().contains("references 40: vmlinux 38, modules 0, unresolved 2;"), run.out());
        assertTrue(run.out().contains("kernel strip: 308 bytes"), run.out());
        Counts report = Counts.of(json);
        Map<String, List<Long>> counts = report.perStrategy();
        assertEquals(9 * backends.size(), report.runs(), run.out());
        assertEquals(counts.get("gnu").get(0), counts.get("linear").get(0), "the same tables are probed");
        assertTrue(counts.get("gnu-bloom").get(2) > 0, "Bloom rejections");
        assertTrue(counts.get("preresolved").get(0) < counts.get("gnu-bloom").get(0), "preresolved probes fewer tables");
    }

    /**
     * The counts of a {@code --json} report.
     *
     * @param perStrategy strategy -> probes, compares, Bloom rejections, chain steps
     * @param runs        how many runs (strategy and backend) the report holds
     */
    record Counts(Map<String, List<Long>> perStrategy, int runs) {
        /** Reads a report, asserting that every backend's run of a strategy has the same counts. */
        static Counts of(Path json) throws java.io.IOException {
            Map<String, List<Long>> counts = new HashMap<>();
            int runs = 0;
            try (JsonParser p = new JsonFactory().createParser(json.toFile())) {
                String strategy = null;
                List<Long> row = null;
                while (p.nextToken() != null) {
                    if (p.currentToken() != JsonToken.FIELD_NAME) {
                        continue;
                    }
                    switch (p.currentName()) {
                        case "strategy" -> {
                            strategy = p.nextTextValue();
                            row = new java.util.ArrayList<>();
                            runs++;
                        }
                        case "probes", "string_compares", "bloom_rejections", "chain_steps" -> {
                            p.nextToken();
                            row.add(p.getLongValue());
                            if (row.size() == 4) {
                                List<Long> before = counts.putIfAbsent(strategy, row);
                                assertTrue(before == null || before.equals(row), strategy + ": " + before + " vs " + row);
                            }
                        }
                        default -> {
                        }
                    }
                }
            }
            return new Counts(counts, runs);
        }
    }

    @Test
    void badInputIsOneLineAndStatusTwo() {
        Path fx = CliRun.fixtures();
        CliRun noDir = CliRun.of("simulate", "--kernel", fx.resolve("boot/vmlinux").toString(), "--modules",
                tmp.resolve("missing").toString());
        assertEquals(2, noDir.status());
        assertEquals(1, noDir.err().lines().count(), noDir.err());
        assertTrue(noDir.err().contains("missing: is not a directory"), noDir.err());
        CliRun badStrategy = CliRun.of(args(fx, "--strategy", "quantum"));
        assertEquals(2, badStrategy.status());
        assertTrue(badStrategy.err().contains("no strategy called quantum"), badStrategy.err());
    }
}
