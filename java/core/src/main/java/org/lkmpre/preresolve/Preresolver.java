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
     * @return the report, and the patch unless the module was refused, failed or already done
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
        Optional<String> refusal = refusal(module);
        if (refusal.isPresent()) {
            return new Outcome.Refused(path, refusal.get());
        }
        try {
            return patch(path, module);
        } catch (InputFormatException e) {
            return new Outcome.Failed(path, e.reason());
        }
    }

    private Optional<String> refusal(KernelModule module) {
        if (module.signature().isPresent() && !options.stripSignature()) {
            return Optional.of(SIGNED);
        }
        if (module.elf().wordSize() != kernel.wordSize()) {
            return Optional.of(classMismatch(module.elf().wordSize() * 8));
        }
        if (kernel.machine() != 0 && module.elf().machine() != kernel.machine()) {
            return Optional.of(machineMismatch(module.elf().machine()));
        }
        Optional<String> built = builtFor(module);
        if (built.isPresent() && kernel.identity().release().isPresent()
                && !built.get().equals(kernel.identity().release().get())) {
            return Optional.of(releaseMismatch(built.get()));
        }
        return Optional.empty();
    }

    /** The kernel release a module was built for: the first word of its vermagic. */
    private static Optional<String> builtFor(KernelModule module) {
        return module.modinfo().first("vermagic").map(v -> v.split(" ", -1)[0]);
    }

    private String releaseMismatch(String built) {
        return "module is built for kernel " + built + ", kernel is " + kernel.identity().release().orElseThrow()
                + ": its addresses would be wrong";
    }

    private static final String SIGNED =
            "module signature appended; --strip-signature removes it, and the module then loads unsigned";

    private String classMismatch(int moduleBits) {
        return "ELF" + moduleBits + " module for an ELF" + kernel.wordSize() * 8 + " kernel";
    }

    private String machineMismatch(int moduleMachine) {
        return "module is for machine " + moduleMachine + ", kernel for machine " + kernel.machine();
    }

    private Outcome.Preresolved patch(String path, KernelModule module) {
        Section symtab = module.elf().symbolTable().orElseThrow();
        ElfPatch.Builder patch = module.elf().patch();
        int undefined = 0;
        int preresolved = 0;
        List<Unresolved> unresolved = new ArrayList<>();
        List<UndoRecord.Entry> undo = new ArrayList<>();
        for (Symbol sym : module.elf().undefinedSymbols(symtab)) {
            undefined++;
            Optional<ExportedSymbol> export = kernel.find(sym.name());
            if (export.isEmpty()) {
                unresolved.add(new Unresolved(sym.name(), UnresolvedReason.NOT_EXPORTED_BY_VMLINUX, providerDetail(sym.name())));
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
        ModuleReport report = new ModuleReport(path, ModuleStatus.PRERESOLVED, undefined, preresolved, unresolved, "");
        return new Outcome.Preresolved(report, patch.build(keep));
    }

    /**
     * lkmpre's address guard, then the checks of the kernel's {@code resolve_symbol()}, in its
     * order: license, CRC, namespace.
     */
    private Optional<Unresolved> check(KernelModule module, ExportedSymbol export) {
        String name = export.name();
        if (export.outsideKernel()) {
            return Optional.of(new Unresolved(name, UnresolvedReason.ADDRESS_OUTSIDE_VMLINUX, addressDetail(export.address())));
        }
        ModInfo info = module.modinfo();
        if (export.kind().gplOnly()
                && (!info.gplCompatible() || info.first("name").filter(LICENSE_LIARS::contains).isPresent())) {
            return Optional.of(new Unresolved(name, UnresolvedReason.GPL_ONLY, licenseDetail(info.license())));
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
                return Optional.of(new Unresolved(name, UnresolvedReason.CRC_MISMATCH, crcDetail(crc, kernelCrc)));
            }
        }
        if (!export.namespace().isEmpty() && !info.importedNamespaces().contains(export.namespace())) {
            return Optional.of(new Unresolved(name, UnresolvedReason.NAMESPACE_NOT_IMPORTED,
                    namespaceDetail(export.namespace())));
        }
        return Optional.empty();
    }

    private static String addressDetail(long address) {
        return "0x" + Long.toHexString(address) + " lies outside every allocated section of vmlinux";
    }

    private String providerDetail(String name) {
        return kernel.exportingModule(name).map(m -> "exported by " + m).orElse("");
    }

    private static String licenseDetail(Optional<String> license) {
        return "license " + license.map(l -> "'" + l + "'").orElse("missing");
    }

    private static String crcDetail(long moduleCrc, long kernelCrc) {
        return String.format("module 0x%08x, kernel 0x%08x", moduleCrc, kernelCrc);
    }

    private static String namespaceDetail(String namespace) {
        return "namespace " + namespace;
    }

    /**
     * Turns what a native backend computed for a module into the same {@link Outcome} this
     * reference would give: the same report text, and the native output bytes as the patch. For
     * a module the native core found malformed, the message comes from this reference, which must
     * agree that the module is malformed.
     *
     * @param path   how to name the module
     * @param data   the module's bytes
     * @param result what the native core returned
     * @return the outcome
     * @throws IllegalStateException if the native core and this reference disagree about a malformed module
     */
    public Outcome adopt(String path, byte[] data, NativeResult result) {
        return switch (result.status()) {
            case FAILED -> {
                Outcome reference = preresolve(path, data);
                if (!(reference instanceof Outcome.Failed)) {
                    throw new IllegalStateException(path + ": the native core rejects the module (" + result.message()
                            + ") but the Java reference says " + reference.report().status());
                }
                yield reference;
            }
            case ALREADY_PRERESOLVED -> new Outcome.AlreadyPreresolved(path);
            case REFUSED -> new Outcome.Refused(path, switch (result.refusal()) {
                case SIGNED -> SIGNED;
                case CLASS -> classMismatch(result.moduleClass());
                case MACHINE -> machineMismatch(result.moduleMachine());
                case VERMAGIC -> releaseMismatch(builtFor(KernelModule.parse(path, data)).orElseThrow());
                case NONE -> throw new IllegalStateException(path + ": refused without a reason");
            });
            case PRERESOLVED -> {
                List<Unresolved> unresolved = new ArrayList<>();
                for (NativeResult.Symbol s : result.symbols()) {
                    String name = s.name(data);
                    switch (s.reason()) {
                        case NOT_EXPORTED_BY_VMLINUX -> unresolved.add(new Unresolved(name, s.reason(), providerDetail(name)));
                        case GPL_ONLY -> unresolved.add(new Unresolved(name, s.reason(), licenseDetail(result.license(data))));
                        case CRC_MISMATCH -> unresolved.add(new Unresolved(name, s.reason(),
                                crcDetail(s.moduleCrc(), kernel.find(name).orElseThrow().crc().orElseThrow())));
                        case NAMESPACE_NOT_IMPORTED -> unresolved.add(new Unresolved(name, s.reason(),
                                namespaceDetail(kernel.find(name).orElseThrow().namespace())));
                        case NO_MODVERSIONS, MISSING_VERSION -> unresolved.add(new Unresolved(name, s.reason(), ""));
                        case ADDRESS_OUTSIDE_VMLINUX -> unresolved.add(new Unresolved(name, s.reason(),
                                addressDetail(kernel.find(name).orElseThrow().address())));
                    }
                }
                int undefined = result.symbols().size() + result.preresolved();
                ModuleReport report = new ModuleReport(path, ModuleStatus.PRERESOLVED, undefined, result.preresolved(),
                        unresolved, "");
                yield new Outcome.Preresolved(report, new ElfPatch(0, List.of(), result.output()));
            }
        };
    }
}
