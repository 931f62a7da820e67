package org.lkmpre.preresolve;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * What the C core's {@code lkmpre_preresolve()} returned for one module, as a binding copies it
 * out of native memory; {@link Preresolver#adopt} turns it into an {@link Outcome}.
 *
 * @param status        the module status
 * @param refusal       why it was refused ({@link Refusal#NONE} otherwise)
 * @param moduleClass   32 or 64
 * @param moduleMachine the module's {@code e_machine}
 * @param preresolved   symbols made {@code SHN_ABS}
 * @param licenseOffset file offset of the module's license value (0 if none)
 * @param licenseLength its length
 * @param symbols       the undefined symbols left {@code SHN_UNDEF}, in symbol-table order
 * @param output        the patched module (PRERESOLVED only, else empty)
 * @param message       the core's error message for a FAILED module
 */
public record NativeResult(ModuleStatus status, Refusal refusal, int moduleClass, int moduleMachine, int preresolved,
                           int licenseOffset, int licenseLength, List<Symbol> symbols, byte[] output, String message) {
    /** {@code lkmpre_refusal}, in the C enum's order. */
    public enum Refusal {
        /** Not refused. */
        NONE,
        /** Signed, and signatures are not being stripped. */
        SIGNED,
        /** ELF class differs from the kernel's. */
        CLASS,
        /** Machine differs from the kernel's. */
        MACHINE,
        /** Built for another kernel release (vermagic). */
        VERMAGIC
    }

    /**
     * One symbol left undefined.
     *
     * @param nameOffset file offset of its NUL-terminated name
     * @param reason     why
     * @param moduleCrc  the module's CRC, for {@link UnresolvedReason#CRC_MISMATCH}
     */
    public record Symbol(int nameOffset, UnresolvedReason reason, long moduleCrc) {
        String name(byte[] module) {
            int end = nameOffset;
            while (module[end] != 0) {
                end++;
            }
            return new String(module, nameOffset, end - nameOffset, StandardCharsets.ISO_8859_1);
        }
    }

    /** Copies the list. */
    public NativeResult {
        symbols = List.copyOf(symbols);
    }

    /** @return the C core's status number as a status */
    public static ModuleStatus status(int code) {
        return ModuleStatus.values()[code];
    }

    /** @return the C core's reason number (1..7) as a reason */
    public static UnresolvedReason reason(int code) {
        return UnresolvedReason.values()[code - 1];
    }

    Optional<String> license(byte[] module) {
        return licenseOffset == 0 ? Optional.empty()
                : Optional.of(new String(module, licenseOffset, licenseLength, StandardCharsets.ISO_8859_1));
    }
}
