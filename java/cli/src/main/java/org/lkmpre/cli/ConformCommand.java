package org.lkmpre.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Section;
import org.lkmpre.elf.Symbol;
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

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "modules (.ko) and directories to walk")
    List<Path> paths;

    @Override
    public Integer call() throws Exception {
        Preresolver reference = Preresolver.create(kernelOptions.read(), new PreresolveOptions(stripSignature, assumeNoKaslr));
        List<Backend> backends = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        try {
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
                    Optional<String> line = differ(t.name(), b.name(), ref, refBytes, b.preresolve(t.name(), data), data);
                    if (line.isPresent()) {
                        differ++;
                        out.println(line.get());
                    }
                }
            }
            out.println("lkmpre conform: " + modules.size() + " modules, backends "
                    + String.join(", ", backends.stream().map(Backend::name).toList()) + ": "
                    + (differ == 0 ? "all identical" : differ + " differences")
                    + (skipped.isEmpty() ? "" : "; skipped " + String.join(", ", skipped)));
            return differ == 0 ? 0 : Main.EXIT_MODULE_FAILED;
        } finally {
            backends.forEach(Backend::close);
        }
    }

    /**
     * Compares another implementation's outcome for a module with the reference's (the cross
     * targets' test helper compares through here too).
     *
     * @param module   the module's name
     * @param other    the other implementation's name
     * @param ref      the reference's outcome
     * @param refBytes the reference's output ({@link #output})
     * @param got      the other implementation's outcome
     * @param data     the module's bytes
     * @return the {@code DIFFER} line, if they differ
     */
    static Optional<String> differ(String module, String other, Outcome ref, byte[] refBytes, Outcome got, byte[] data) {
        return difference(ref, refBytes, got, data).map(why -> "DIFFER  " + module + ": java vs " + other + ": " + why);
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
    static byte[] output(Outcome outcome, byte[] data) {
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
            int shentsize = elf.layout().shentsize();
            if (at >= shoff && at < shoff + (long) elf.sections().size() * shentsize) {
                return " (section header " + (at - shoff) / shentsize + ")";
            }
            return at < elf.layout().ehsize() ? " (ELF header)" : " (in no section)";
        } catch (InputFormatException e) {
            return " (output unreadable: " + e.reason() + ")";
        }
    }
}
