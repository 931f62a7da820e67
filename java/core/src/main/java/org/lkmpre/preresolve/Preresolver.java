package org.lkmpre.preresolve;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfPatch;
import org.lkmpre.elf.Section;
import org.lkmpre.elf.Symbol;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelConfig;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.module.KernelModule;
import org.lkmpre.module.ModInfo;
import org.lkmpre.module.UndoRecord;
import org.lkmpre.internal.ReportBuilder;

/**
 * Rewrites a module's symbol table so that every undefined symbol vmlinux exports becomes
 * {@code SHN_ABS} with the kernel's address, after the checks the kernel's loader would make for
 * it (modversions CRC, GPL-only exports, namespaces); a symbol that fails a check stays
 * {@code SHN_UNDEF} so the kernel still reports it. The module gains an empty
 * {@code .preresolved} section; every other byte stays as it was.
 *
 * <p>Immutable and safe to use from several threads at once.
 */
public final class Preresolver implements Backend {
    /**
     * Modules the kernel taints as proprietary whatever license they claim
     * ({@code module_license_taint_check()} and {@code set_license()}), so GPL-only exports fail.
     */
    private static final Set<String> LICENSE_LIARS = Set.of("ndiswrapper", "driverloader", "lve");

    private final KernelSymbols kernel;
    private final PreresolveOptions options;
    private final ReportBuilder reports;

    private Preresolver(KernelSymbols kernel, PreresolveOptions options) {
        this.kernel = kernel;
        this.options = options;
        this.reports = new ReportBuilder(kernel);
    }

    /**
     * Creates a preresolver for one kernel.
     *
     * @param kernel  the kernel's export table
     * @param options what to accept
     * @return the preresolver
     * @throws InputFormatException if the kernel cannot be preresolved against: its configuration
     *                              enables KASLR and {@code assumeNoKaslr} is false
     */
    public static Preresolver create(KernelSymbols kernel, PreresolveOptions options) {
        Objects.requireNonNull(kernel);
        Objects.requireNonNull(options);
        Optional<KernelConfig> config = kernel.config();
        if (config.isPresent() && config.get().randomizesBase() && !options.assumeNoKaslr()) {
            throw new InputFormatException(kernel.origin(), "kernel is built with CONFIG_RANDOMIZE_BASE=y (KASLR, per "
                    + config.get().origin() + "): absolute addresses move at boot; boot it with 'nokaslr' and pass"
                    + " --assume-nokaslr");
        }
        return new Preresolver(kernel, options);
    }

    /** @return the kernel this preresolver resolves against */
    @Override
    public KernelSymbols kernel() {
        return kernel;
    }

    /** @return the options this preresolver applies */
    public PreresolveOptions options() {
        return options;
    }

    /** @return "java": this is the pure-Java reference */
    @Override
    public String name() {
        return "java";
    }

    /**
     * Preresolves one module. Never throws for bad module input: a malformed module yields a
     * {@link ModuleStatus#FAILED} report.
     *
     * @param path how to name the module in the report
     * @param data the module's bytes; not modified
     * @return the outcome: {@link Outcome.Preresolved} with the patch, or why there is none
     */
    @Override
    public Outcome preresolve(String path, byte[] data) {
        KernelModule module;
        try {
            module = KernelModule.parse(path, data);
        } catch (InputFormatException e) {
            return new Outcome.Failed(path, e.reason());
        }
        if (module.isPreresolved()) {
            return new Outcome.AlreadyPreresolved(path);
        }
        Optional<Outcome.Refused> refusal = refusal(path, module);
        if (refusal.isPresent()) {
            return refusal.get();
        }
        try {
            return patch(path, module);
        } catch (InputFormatException e) {
            return new Outcome.Failed(path, e.reason());
        }
    }

    private Optional<Outcome.Refused> refusal(String path, KernelModule module) {
        if (module.signature().isPresent() && !options.stripSignature()) {
            return Optional.of(reports.signed(path));
        }
        if (module.elf().wordSize() != kernel.wordSize()) {
            return Optional.of(reports.classMismatch(path, module.elf().wordSize() * 8));
        }
        if (kernel.machine() != 0 && module.elf().machine() != kernel.machine()) {
            return Optional.of(reports.machineMismatch(path, module.elf().machine()));
        }
        Optional<String> built = ReportBuilder.builtFor(module);
        if (built.isPresent() && kernel.identity().release().isPresent()
                && !built.get().equals(kernel.identity().release().get())) {
            return Optional.of(reports.releaseMismatch(path, built.get()));
        }
        return Optional.empty();
    }

    private Outcome.Preresolved patch(String path, KernelModule module) {
        Section symtab = module.elf().symbolTable().orElseThrow();
        ElfPatch.Builder patch = module.elf().patch();
        int preresolved = 0;
        List<Unresolved> unresolved = new ArrayList<>();
        List<UndoRecord.Entry> undo = new ArrayList<>();
        for (Symbol sym : module.elf().undefinedSymbols(symtab)) {
            Optional<ExportedSymbol> export = kernel.find(sym.name());
            if (export.isEmpty()) {
                unresolved.add(reports.unresolved(sym.name(), UnresolvedReason.NOT_EXPORTED_BY_VMLINUX, Optional.empty(), 0));
                continue;
            }
            Optional<Unresolved> failed = check(module, export.get());
            if (failed.isPresent()) {
                unresolved.add(failed.get());
                continue;
            }
            patch.setSymbol(symtab, sym, export.get().address(), Symbol.SHN_ABS);
            undo.add(new UndoRecord.Entry(sym.index(), sym.shndx(), sym.value()));
            preresolved++;
        }
        int keep = module.signature().map(s -> s.imageLength()).orElse(module.data().length);
        patch.addEmptySection(KernelModule.PRERESOLVED_SECTION).addSection(UndoRecord.SECTION,
                new UndoRecord(keep, module.elf().sectionHeaderOffset(), module.elf().sections().size(), undo).encode());
        return reports.preresolved(path, preresolved, unresolved, patch.build(keep));
    }

    /**
     * lkmpre's address guard, then the checks of the kernel's {@code resolve_symbol()}, in its
     * order: license, CRC, namespace.
     */
    private Optional<Unresolved> check(KernelModule module, ExportedSymbol export) {
        String name = export.name();
        if (export.outsideKernel()) {
            return Optional.of(reports.unresolved(name, UnresolvedReason.ADDRESS_OUTSIDE_VMLINUX, Optional.empty(), 0));
        }
        ModInfo info = module.modinfo();
        if (export.kind().gplOnly()
                && (!info.gplCompatible() || info.first("name").filter(LICENSE_LIARS::contains).isPresent())) {
            return Optional.of(reports.unresolved(name, UnresolvedReason.GPL_ONLY, info.license(), 0));
        }
        if (export.crc().isPresent()) {
            Optional<Map<String, Long>> versions = module.versions();
            if (versions.isEmpty()) {
                return Optional.of(reports.unresolved(name, UnresolvedReason.NO_MODVERSIONS, Optional.empty(), 0));
            }
            Long crc = versions.get().get(name);
            if (crc == null) {
                return Optional.of(reports.unresolved(name, UnresolvedReason.MISSING_VERSION, Optional.empty(), 0));
            }
            if (crc != export.crc().getAsLong()) {
                return Optional.of(reports.unresolved(name, UnresolvedReason.CRC_MISMATCH, Optional.empty(), crc));
            }
        }
        if (!export.namespace().isEmpty() && !info.importedNamespaces().contains(export.namespace())) {
            return Optional.of(reports.unresolved(name, UnresolvedReason.NAMESPACE_NOT_IMPORTED, Optional.empty(), 0));
        }
        return Optional.empty();
    }
}
