package org.lkmpre.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.measure.LoadTrace;
import org.lkmpre.measure.Measurement;
import org.lkmpre.module.KernelModule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "measure", mixinStandardHelpOptions = true,
        description = {"Compare what the device tool (--device-tool prints it) measured inside a kernel",
            "for stock and preresolved modules: symbol resolution and loading gains per",
            "dependency class, where load_module spends its time, and the kernel's lookup",
            "count against lkmpre's (docs/measure.md).",
            "Exit status: 0 done, counts equal; 1 the kernel's lookup counts differ from",
            "lkmpre's; 2 usage error or unusable input."})
final class MeasureCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--device-tool", description = "print the device tool (a POSIX sh script) and exit")
    boolean deviceTool;

    @Option(names = "--stock", paramLabel = "FILE", description = "the tool's output for the stock modules")
    Path stock;

    @Option(names = "--preresolved", paramLabel = "FILE", description = "the tool's output for the preresolved modules")
    Path preresolved;

    @Option(names = "--stock-modules", paramLabel = "DIR", description = "the stock modules that were loaded")
    Path stockModules;

    @Option(names = "--preresolved-modules", paramLabel = "DIR", description = "the preresolved modules that were loaded")
    Path preresolvedModules;

    @Option(names = "--arch", paramLabel = "NAME", defaultValue = "", description = "architecture name for the report")
    String arch;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON (docs/measure.md)")
    Path json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (deviceTool) {
            try (InputStream in = MeasureCommand.class.getResourceAsStream("/org/lkmpre/cli/loadtime.sh")) {
                out.print(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            out.flush();
            return 0;
        }
        if (stock == null || preresolved == null || stockModules == null || preresolvedModules == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "give --stock, --preresolved, --stock-modules and --preresolved-modules (or --device-tool)");
        }
        Measurement m = Measurement.of(trace(stock), trace(preresolved), modules());
        print(out, m);
        if (json != null) {
            MeasurementJson.write(arch, m, json);
        }
        return m.counts().matches() ? 0 : Main.EXIT_MODULE_FAILED;
    }

    private static LoadTrace trace(Path file) throws IOException {
        return LoadTrace.parse(file.toString(), Files.readAllLines(file));
    }

    /** What lkmpre knows of each measured module: its depends= and its undefined symbols before and after. */
    private Map<String, Measurement.ModuleInfo> modules() throws IOException {
        Map<String, Measurement.ModuleInfo> info = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(stockModules)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".ko")).sorted().toList()) {
                String name = f.getFileName().toString();
                KernelModule before = KernelModule.parse(f.toString(), Files.readAllBytes(f));
                Path after = preresolvedModules.resolve(name);
                if (!Files.exists(after)) {
                    throw new InputFormatException(after.toString(), "no such file: the preresolved run lacks " + name);
                }
                info.put(name, new Measurement.ModuleInfo(before.modinfo().depends().size(), undefined(before),
                        undefined(KernelModule.parse(after.toString(), Files.readAllBytes(after)))));
            }
        }
        return info;
    }

    private static long undefined(KernelModule m) {
        ElfFile elf = m.elf();
        return elf.undefinedSymbols(elf.symbolTable().orElseThrow()).size();
    }

    private static void print(PrintWriter out, Measurement m) {
        out.printf("kernel %s: %d modules, %d rounds; lkmpre preresolved %d of %d undefined symbols%n", m.kernel(),
                m.modules(), m.rounds(), m.preresolved(), m.undefined());
        out.println("deps  modules  symbol resolution gain   module loading gain   (median [min..max] over rounds)");
        for (Measurement.ClassGain c : m.classes()) {
            out.printf("%-4s  %7d  %6.1f %% [%.1f..%.1f]   %6.1f %% [%.1f..%.1f]%n", c.deps(), c.modules(),
                    c.lookup().median(), c.lookup().min(), c.lookup().max(), c.load().median(), c.load().min(), c.load().max());
        }
        out.println("per round (median)   lookups   lookup ms   load ms (no init)   init ms   untraced loop ms");
        for (var side : List.of(Map.entry("stock", m.stock()), Map.entry("preresolved", m.preresolvedRun()))) {
            Measurement.Side s = side.getValue();
            out.printf("%-18s %9d %11.1f %19.1f %9.1f %18.1f%n", side.getKey(), s.lookups(), s.lookupNs() / 1e6,
                    s.loadNs() / 1e6, s.initNs() / 1e6, s.wallNs() / 1e6);
        }
        out.println("load_module and its traced callees, ms per round (median): stock, preresolved");
        for (Measurement.FunctionCost f : m.breakdown()) {
            out.printf("  %-26s %9.1f %9.1f%n", f.function(), f.stockNs() / 1e6, f.preresolvedNs() / 1e6);
        }
        Measurement.CountCheck c = m.counts();
        out.printf("%s calls in round 1 (%d modules loaded in both runs): stock %d (lkmpre: %d undefined),"
                + " preresolved %d (lkmpre: %d left undefined): %s%n", m.lookupFunction(), c.modules(), c.stockKernel(),
                c.stockLkmpre(), c.preKernel(), c.preLkmpre(), c.matches() ? "equal" : "DIFFERENT");
        c.differing().forEach(d -> out.println("  differs: " + d));
    }
}
