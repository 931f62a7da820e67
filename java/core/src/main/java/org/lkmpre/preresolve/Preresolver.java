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

/**
 * Rewrites a module's symbol table so that every undefined symbol vmlinux exports becomes
 * {@code SHN_ABS} with the kernel's address, after the checks the kernel's loader would make for
 * it (modversions CRC, GPL-only exports, namespaces); a symbol that fails a check stays
 * {@code SHN_UNDEF} so the kernel still reports it. The module gains an empty
 * {@code .preresolved} section; every other byte stays as it was.
 *
 * <p>Immutable and safe to use from several threads at once.
 */
public final class Preresolver {
    /**
     * Modules the kernel taints as proprietary whatever license they claim
     * ({@code module_license_taint_check()} and {@code set_license()}), so GPL-only exports fail.
     */
    private static final Set<String> LICENSE_LIARS = Set.of("ndiswrapper", "driverloader", "lve");

    private final KernelSymbols kernel;
    private final PreresolveOptions options;

    private Preresolver(KernelSymbols kernel, PreresolveOptions options) {
        this.kernel = kernel;
        this.options = options;
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
    public KernelSymbols kernel() {
        return kernel;
    }

    /**
     * What {@link #preresolve} decided for one module.
     *
     * @param report what happened
     * @param patch  the rewrite to apply to the module's bytes, when there is one
     */
    public record Outcome(ModuleReport report, Optional<ElfPatch> patch) {
    }

    /**
     * Preresolves one module. Never throws for bad module input: a malformed module yields a
     * {@link ModuleStatus#FAILED} report.
     *
     * @param path how to name the module in the report
     * @param data the module's bytes; not modified
     * @return the report, and the patch unless the module was refused, failed or already done
     */
    public Outcome preresolve(String path, byte[] data) {
        KernelModule module;
        try {
            module = KernelModule.parse(path, data);
        } catch (InputFormatException e) {
            return new Outcome(ModuleReport.notPatched(path, ModuleStatus.FAILED, e.reason()), Optional.empty());
        }
        if (module.isPreresolved()) {
            return new Outcome(ModuleReport.notPatched(path, ModuleStatus.ALREADY_PRERESOLVED, ""), Optional.empty());
        }
        Optional<String> refusal = refusal(module);
        if (refusal.isPresent()) {
            return new Outcome(ModuleReport.notPatched(path, ModuleStatus.REFUSED, refusal.get()), Optional.empty());
        }
        try {
            return patch(path, module);
        } catch (InputFormatException e) {
            return new Outcome(ModuleReport.notPatched(path, ModuleStatus.FAILED, e.reason()), Optional.empty());
        }
    }

    private Optional<String> refusal(KernelModule module) {
        if (module.signature().isPresent() && !options.stripSignature()) {
            return Optional.of("module signature appended; --strip-signature removes it, and the module then loads unsigned");
        }
        if (module.elf().wordSize() != kernel.wordSize()) {
            return Optional.of("ELF" + module.elf().wordSize() * 8 + " module for an ELF" + kernel.wordSize() * 8 + " kernel");
        }
        if (kernel.machine() != 0 && module.elf().machine() != kernel.machine()) {
            return Optional.of("module is for machine " + module.elf().machine() + ", kernel for machine " + kernel.machine());
        }
        return Optional.empty();
    }

    private Outcome patch(String path, KernelModule module) {
        Section symtab = module.elf().symbolTable().orElseThrow();
        ElfPatch.Builder patch = module.elf().patch();
        int undefined = 0;
        int preresolved = 0;
        List<Unresolved> unresolved = new ArrayList<>();
        for (Symbol sym : module.elf().undefinedSymbols(symtab)) {
            undefined++;
            Optional<ExportedSymbol> export = kernel.find(sym.name());
            if (export.isEmpty()) {
                String provider = kernel.exportingModule(sym.name()).map(m -> "exported by " + m).orElse("");
                unresolved.add(new Unresolved(sym.name(), UnresolvedReason.NOT_EXPORTED_BY_VMLINUX, provider));
                continue;
            }
            Optional<Unresolved> failed = check(module, export.get());
            if (failed.isPresent()) {
                unresolved.add(failed.get());
                continue;
            }
            patch.setSymbol(symtab, sym, export.get().address(), Symbol.SHN_ABS);
            preresolved++;
        }
        patch.addEmptySection(KernelModule.PRERESOLVED_SECTION);
        int keep = module.signature().map(s -> s.imageLength()).orElse(module.data().length);
        ModuleReport report = new ModuleReport(path, ModuleStatus.PRERESOLVED, undefined, preresolved, unresolved, "");
        return new Outcome(report, Optional.of(patch.build(keep)));
    }

    /** The checks of the kernel's {@code resolve_symbol()}, in its order: license, CRC, namespace. */
    private Optional<Unresolved> check(KernelModule module, ExportedSymbol export) {
        String name = export.name();
        ModInfo info = module.modinfo();
        if (export.kind().gplOnly()
                && (!info.gplCompatible() || info.first("name").filter(LICENSE_LIARS::contains).isPresent())) {
            return Optional.of(new Unresolved(name, UnresolvedReason.GPL_ONLY,
                    "license " + info.license().map(l -> "'" + l + "'").orElse("missing")));
        }
        if (export.crc().isPresent()) {
            Optional<Map<String, Long>> versions = module.versions();
            if (versions.isEmpty()) {
                return Optional.of(new Unresolved(name, UnresolvedReason.NO_MODVERSIONS, ""));
            }
            Long crc = versions.get().get(name);
            if (crc == null) {
                return Optional.of(new Unresolved(name, UnresolvedReason.MISSING_VERSION, ""));
            }
            long kernelCrc = export.crc().getAsLong();
            if (crc != kernelCrc) {
                return Optional.of(new Unresolved(name, UnresolvedReason.CRC_MISMATCH,
                        String.format("module 0x%08x, kernel 0x%08x", crc, kernelCrc)));
            }
        }
        if (!export.namespace().isEmpty() && !info.importedNamespaces().contains(export.namespace())) {
            return Optional.of(new Unresolved(name, UnresolvedReason.NAMESPACE_NOT_IMPORTED,
                    "namespace " + export.namespace()));
        }
        return Optional.empty();
    }
}
