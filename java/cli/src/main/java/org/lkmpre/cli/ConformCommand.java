package org.lkmpre.cli;

import java.io.PrintWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.stream.Stream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Section;
import org.lkmpre.elf.Symbol;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.module.ModuleCompression;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.Backends;
import org.lkmpre.preresolve.ModuleTree;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.preresolve.Preresolver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lkmpre conform}: every available backend on every module, compared byte for byte. */
@Command(name = "conform", mixinStandardHelpOptions = true,
        description = {"Run every available backend (java, ffm, jna) on every module and compare output bytes and reports.",
            "A difference prints the module, the byte offset, its section and symbol; exit status 1. Writes nothing."})
final class ConformCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    KernelOptions kernelOptions;

    @Option(names = "--strip-signature", description = "as for preresolve")
    boolean stripSignature;

    @Option(names = "--assume-nokaslr", description = "as for preresolve")
    boolean assumeNoKaslr;

    @Option(names = "--target", paramLabel = "NAME", split = ",",
            description = "also run the C core built for these cross targets under qemu-user (sh4, sh4eb, arm, x86_64, all)")
    List<String> targets = List.of();

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "modules (.ko) and directories to walk")
    List<Path> paths;

    @Override
    public Integer call() throws Exception {
        Preresolver reference = Preresolver.create(kernelOptions.read(), new PreresolveOptions(stripSignature, assumeNoKaslr));
        List<Backend> backends = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Map.Entry<String, String> b : Backends.all().entrySet()) {
            if (b.getValue().isEmpty()) {
                backends.add(Backends.open(b.getKey(), reference));
            } else {
                skipped.add(b.getKey() + " (" + b.getValue() + ")");
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        List<ModuleTree.Target> modules = ModuleTree.collect(paths, Optional.empty()).targets();
        int differ = 0;
        for (ModuleTree.Target t : modules) {
            byte[] data = t.readPlain();
            Outcome ref = reference.preresolve(t.name(), data);
            byte[] refBytes = output(ref, data);
            for (Backend b : backends) {
                if (b == reference) {
                    continue;
                }
                Optional<String> why = difference(ref, refBytes, b.preresolve(t.name(), data), data);
                if (why.isPresent()) {
                    differ++;
                    out.println("DIFFER  " + t.name() + ": java vs " + b.name() + ": " + why.get());
                }
            }
        }
        List<String> names = new ArrayList<>(backends.stream().map(Backend::name).toList());
        for (TargetDriver target : chosenTargets()) {
            differ += conformTarget(target, reference, modules, out);
            names.add(target.name() + " (" + (target.emulator().isEmpty() ? "native" : target.emulator()) + ")");
        }
        out.println("lkmpre conform: " + modules.size() + " modules, backends " + String.join(", ", names) + ": "
                + (differ == 0 ? "all identical" : differ + " differences")
                + (skipped.isEmpty() ? "" : "; skipped " + String.join(", ", skipped)));
        return differ == 0 ? 0 : Main.EXIT_MODULE_FAILED;
    }

    private List<TargetDriver> chosenTargets() throws IOException {
        if (targets.isEmpty()) {
            return List.of();
        }
        Path toolchains = Path.of(System.getProperty("lkmpre.toolchains", "toolchains"));
        Path build = Path.of(System.getProperty("lkmpre.native.build", "native/build"));
        List<TargetDriver> built = TargetDriver.available(toolchains, build);
        List<TargetDriver> chosen = new ArrayList<>();
        for (String want : targets) {
            List<TargetDriver> match = built.stream().filter(t -> want.equals("all") || t.name().equals(want)).toList();
            if (match.isEmpty()) {
                throw new IllegalArgumentException("no target driver for " + want + " in " + build
                        + " (build it: make -C native target T=" + want + ")");
            }
            match.stream().filter(t -> !chosen.contains(t)).forEach(chosen::add);
        }
        return chosen;
    }

    /** Runs one cross target's driver on every module; returns the number of differences. */
    private static int conformTarget(TargetDriver target, Preresolver reference, List<ModuleTree.Target> modules,
                                     PrintWriter out) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("lkmpre-conform-" + target.name());
        try {
            Path index = work.resolve("kernel.lkmidx");
            Files.write(index, KernelIndex.write(reference.kernel()));
            // The drivers read plain ELF: compressed modules are given to them decompressed.
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < modules.size(); i++) {
                Path source = modules.get(i).source();
                if (ModuleCompression.isModuleName(source.toString()) && !source.toString().endsWith(".ko")) {
                    Path plainCopy = work.resolve("plain-" + i + ".ko");
                    Files.write(plainCopy, modules.get(i).readPlain());
                    source = plainCopy;
                }
                files.add(source);
            }
            List<Outcome> got = target.preresolve(reference, index, modules.stream().map(ModuleTree.Target::name).toList(),
                    files, work);
            int differ = 0;
            for (int i = 0; i < modules.size(); i++) {
                byte[] data = modules.get(i).readPlain();
                Outcome ref = reference.preresolve(modules.get(i).name(), data);
                Optional<String> why = difference(ref, output(ref, data), got.get(i), data);
                if (why.isPresent()) {
                    differ++;
                    out.println("DIFFER  " + modules.get(i).name() + ": java vs " + target.name() + ": " + why.get());
                }
            }
            return differ;
        } finally {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static Optional<String> difference(Outcome ref, byte[] refBytes, Outcome other, byte[] data) {
        if (!ref.report().equals(other.report())) {
            return Optional.of("reports differ: " + ref.report() + " vs " + other.report());
        }
        byte[] bytes = output(other, data);
        if (refBytes == null || bytes == null) {
            return refBytes == bytes ? Optional.empty() : Optional.of("only one wrote an output");
        }
        int n = Math.min(refBytes.length, bytes.length);
        for (int i = 0; i < n; i++) {
            if (refBytes[i] != bytes[i]) {
                return Optional.of("byte " + i + where(refBytes, i));
            }
        }
        return refBytes.length == bytes.length ? Optional.empty()
                : Optional.of("lengths " + refBytes.length + " and " + bytes.length);
    }

    /** @return the patched module, or null where the outcome has no patch */
    private static byte[] output(Outcome outcome, byte[] data) {
        return outcome instanceof Outcome.Preresolved p ? p.patch().apply(data) : null;
    }

    /** The section (and symbol, inside .symtab) that holds file offset {@code at}. */
    private static String where(byte[] file, long at) {
        try {
            ElfFile elf = ElfFile.parse("output", file);
            for (Section s : elf.sections()) {
                if (s.hasFileBytes() && at >= s.offset() && at < s.offset() + s.size()) {
                    String symbol = "";
                    if (s.type() == Section.SHT_SYMTAB) {
                        Symbol sym = elf.symbols(s).get((int) ((at - s.offset()) / s.entsize()));
                        symbol = ", symbol " + sym.index() + " " + sym.name();
                    }
                    return " (section " + s.index() + " " + s.name() + symbol + ")";
                }
            }
            long shoff = elf.sectionHeaderOffset();
            int shentsize = elf.is64() ? 64 : 40;
            if (at >= shoff && at < shoff + (long) elf.sections().size() * shentsize) {
                return " (section header " + (at - shoff) / shentsize + ")";
            }
            return at < (elf.is64() ? 64 : 52) ? " (ELF header)" : " (in no section)";
        } catch (InputFormatException e) {
            return " (output unreadable: " + e.reason() + ")";
        }
    }
}
