package org.lkmpre.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.lkmpre.elf.ElfPatch;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.module.KernelModule;
import org.lkmpre.preresolve.ModuleLock;
import org.lkmpre.preresolve.ModuleReport;
import org.lkmpre.preresolve.ModuleStatus;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.Preresolver;
import org.lkmpre.preresolve.Unresolved;
import org.lkmpre.preresolve.UnresolvedReason;

/**
 * The words of lkmpre's reports for one kernel, shared by every backend: the Java reference
 * writes its outcomes with it, and the native bindings turn what the C core decided into the same
 * outcomes with {@link #fromNative}, so that the report text has one author.
 */
public final class ReportBuilder {
    private static final String SIGNED =
            "module signature appended; --strip-signature removes it, and the module then loads unsigned";

    private final KernelSymbols kernel;

    /** @param kernel the kernel the reports are about */
    public ReportBuilder(KernelSymbols kernel) {
        this.kernel = Objects.requireNonNull(kernel);
    }

    /** @return the refusal of a signed module while signatures are kept */
    public Outcome.Refused signed(String path) {
        return new Outcome.Refused(path, SIGNED);
    }

    /** @return the refusal of a module of the other ELF class ({@code moduleBits}: 32 or 64) */
    public Outcome.Refused classMismatch(String path, int moduleBits) {
        return new Outcome.Refused(path, "ELF" + moduleBits + " module for an ELF" + kernel.wordSize() * 8 + " kernel");
    }

    /** @return the refusal of a module for another {@code e_machine} */
    public Outcome.Refused machineMismatch(String path, int moduleMachine) {
        return new Outcome.Refused(path, "module is for machine " + moduleMachine + ", kernel for machine " + kernel.machine());
    }

    /** @return the refusal of a module built for kernel release {@code built} */
    public Outcome.Refused releaseMismatch(String path, String built) {
        return new Outcome.Refused(path, "module is built for kernel " + built + ", kernel is "
                + kernel.identity().release().orElseThrow() + ": its addresses would be wrong");
    }

    /** @return the kernel release a module was built for: the first word of its vermagic */
    public static Optional<String> builtFor(KernelModule module) {
        return module.modinfo().first("vermagic").map(v -> v.split(" ", -1)[0]);
    }

    /**
     * A symbol left undefined, with the detail a person needs.
     *
     * @param name      the symbol
     * @param reason    why it stays undefined
     * @param license   the module's license, for {@link UnresolvedReason#GPL_ONLY}
     * @param moduleCrc the module's CRC, for {@link UnresolvedReason#CRC_MISMATCH}
     * @return the entry of the report
     */
    public Unresolved unresolved(String name, UnresolvedReason reason, Optional<String> license, long moduleCrc) {
        return new Unresolved(name, reason, switch (reason) {
            case NOT_EXPORTED_BY_VMLINUX -> kernel.exportingModule(name).map(m -> "exported by " + m).orElse("");
            case GPL_ONLY -> "license " + license.map(l -> "'" + l + "'").orElse("missing");
            case NO_MODVERSIONS, MISSING_VERSION -> "";
            case CRC_MISMATCH -> String.format("module 0x%08x, kernel 0x%08x", moduleCrc,
                    kernel.find(name).orElseThrow().crc().orElseThrow());
            case NAMESPACE_NOT_IMPORTED -> "namespace " + kernel.find(name).orElseThrow().namespace();
            case ADDRESS_OUTSIDE_VMLINUX -> "0x" + Long.toHexString(kernel.find(name).orElseThrow().address())
                    + " lies outside every allocated section of vmlinux";
        });
    }

    /**
     * @param path        how to name the module
     * @param preresolved how many undefined symbols are now {@code SHN_ABS}
     * @param unresolved  the others, in symbol-table order
     * @param patch       the rewrite of the module
     * @return the outcome of a preresolved module
     */
    public Outcome.Preresolved preresolved(String path, int preresolved, List<Unresolved> unresolved, ElfPatch patch) {
        return new Outcome.Preresolved(preresolvedReport(path, preresolved, unresolved), patch);
    }

    private static ModuleReport preresolvedReport(String path, int preresolved, List<Unresolved> unresolved) {
        return new ModuleReport(path, ModuleStatus.PRERESOLVED, preresolved + unresolved.size(), preresolved, unresolved, "");
    }

    /**
     * Turns what the C core decided for a module into the outcome the reference gives: the same
     * report text, and the core's output bytes as the patch. For a module the core found
     * malformed, the message is the reference's (the two word their errors differently), and the
     * reference must agree that the module is malformed.
     *
     * @param reference the Java reference, run again on a module the core found malformed
     * @param path      how to name the module
     * @param data      holds the module's bytes
     * @param length    the module's length
     * @param result    what the C core returned
     * @return the outcome
     * @throws IllegalStateException if the core and the reference disagree about a malformed module
     */
    public Outcome fromNative(Preresolver reference, String path, byte[] data, int length, NativeResult result) {
        return switch (result.status()) {
            case FAILED -> {
                Outcome java = reference.preresolve(path, data, length);
                if (!(java instanceof Outcome.Failed)) {
                    throw new IllegalStateException(path + ": the native core rejects the module (" + result.message()
                            + ") but the Java reference says " + java.report().status());
                }
                yield java;
            }
            case ALREADY_PRERESOLVED -> new Outcome.AlreadyPreresolved(path);
            case REFUSED -> refused(path, result,
                    () -> builtFor(KernelModule.parse(path, Arrays.copyOf(data, length))).orElseThrow());
            case PRERESOLVED -> preresolved(path, result.preresolved(), unresolved(result, data), result.patch().orElseThrow());
        };
    }

    /**
     * Turns what the C core's whole-file run returned for a file into its report, with the
     * reference's words.
     *
     * @param path   how to name the module
     * @param result the {@code lkmpre_file_result} ({@link NativeResult#decodeFile})
     * @param detail its detail, which its offsets point into
     * @return the report; empty for a file that failed (to be read or written, or as a malformed
     *         module), which the per-module path does again for the reference's words, unless
     *         another run held it for the whole wait (not waited for twice)
     */
    public Optional<ModuleReport> fromFile(String path, ByteBuffer result, byte[] detail) {
        if (result.getInt(NativeResult.FILE_STEP) == NativeResult.FILE_LOCK) {
            return Optional.of(ModuleReport.notPatched(path, ModuleStatus.FAILED, "cannot lock: " + ModuleLock.HELD));
        }
        return NativeResult.decodeFile(result, detail).flatMap(r -> switch (r.status()) {
            case FAILED -> Optional.empty();
            case ALREADY_PRERESOLVED -> Optional.of(new Outcome.AlreadyPreresolved(path).report());
            case REFUSED -> Optional.of(refused(path, r, () -> new String(detail, StandardCharsets.ISO_8859_1)).report());
            case PRERESOLVED -> Optional.of(preresolvedReport(path, r.preresolved(), unresolved(r, detail)));
        });
    }

    /**
     * @param builtFor the release the module is built for, asked only for a vermagic refusal
     * @return the refusal the core decided, in the reference's words
     */
    private Outcome.Refused refused(String path, NativeResult result, Supplier<String> builtFor) {
        return switch (result.refusal()) {
            case SIGNED -> signed(path);
            case CLASS -> classMismatch(path, result.moduleClass());
            case MACHINE -> machineMismatch(path, result.moduleMachine());
            case VERMAGIC -> releaseMismatch(path, builtFor.get());
            case NONE -> throw new IllegalStateException(path + ": refused without a reason");
        };
    }

    /** @return the symbols a result leaves undefined, with their names and license read from {@code bytes} */
    private List<Unresolved> unresolved(NativeResult result, byte[] bytes) {
        List<Unresolved> unresolved = new ArrayList<>(result.symbols().size());
        Optional<String> license = result.license(bytes);
        for (NativeResult.Symbol s : result.symbols()) {
            unresolved.add(unresolved(s.name(bytes), s.reason(), license, s.moduleCrc()));
        }
        return unresolved;
    }
}
