package org.lkmpre.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.lkmpre.elf.ElfPatch;
import org.lkmpre.preresolve.ModuleStatus;
import org.lkmpre.preresolve.UnresolvedReason;

/**
 * What the C core's {@code lkmpre_preresolve()} returned for one module; {@link #decode} reads it
 * from the core's structs, {@link ReportBuilder#fromNative} turns it into an outcome.
 *
 * @param status        the module status
 * @param refusal       why it was refused ({@link Refusal#NONE} otherwise)
 * @param moduleClass   32 or 64
 * @param moduleMachine the module's {@code e_machine}
 * @param preresolved   symbols made {@code SHN_ABS}
 * @param licenseOffset file offset of the module's license value (0 if none)
 * @param licenseLength its length
 * @param symbols       the undefined symbols left {@code SHN_UNDEF}, in symbol-table order
 * @param patch         the rewrite of the module (PRERESOLVED only)
 * @param message       the core's error message for a FAILED module
 */
public record NativeResult(ModuleStatus status, Refusal refusal, int moduleClass, int moduleMachine, int preresolved,
                           int licenseOffset, int licenseLength, List<Symbol> symbols, Optional<ElfPatch> patch,
                           String message) {
    /** {@code sizeof(lkmpre_module_result)}. */
    public static final int MODULE_RESULT_SIZE = 40;
    /** {@code sizeof(lkmpre_symbol_result)} on LP64 and ILP32 alike. */
    public static final int SYMBOL_RESULT_SIZE = 24;
    /** {@code sizeof(lkmpre_file_result)} on LP64 and ILP32 alike: the module result, then step, error, detail_len, detail. */
    public static final int FILE_RESULT_SIZE = 64;
    /** Offset of {@code lkmpre_file_result.step}. */
    public static final int FILE_STEP = 40;
    /** {@code LKMPRE_FILE_LOCK}: another run held the module for the whole wait. */
    public static final int FILE_LOCK = 2;
    /** Offset of {@code lkmpre_file_result.detail_len}. */
    public static final int FILE_DETAIL_LEN = 48;
    /** Offset of {@code lkmpre_file_result.detail} (a pointer). */
    public static final int FILE_DETAIL = 56;
    /** The preresolved detail's header: a {@code uint32_t} count and 4 bytes of zero. */
    private static final int FILE_DETAIL_HEADER = 8;

    // lkmpre_module_result: eight uint32_t, then the uint64_t out_len.
    private static final int STATUS = 0;
    private static final int REFUSAL = 4;
    private static final int UNDEFINED = 8;
    private static final int PRERESOLVED = 12;
    private static final int MODULE_CLASS = 16;
    private static final int MODULE_MACHINE = 20;
    private static final int LICENSE_OFFSET = 24;
    private static final int LICENSE_LEN = 28;
    private static final int OUT_LEN = 32;
    // lkmpre_symbol_result: symbol, name_offset, reason, entry (uint32_t), then the uint64_t module_crc.
    private static final int SYMBOL_INDEX = 0;
    private static final int SYMBOL_NAME_OFFSET = 4;
    private static final int SYMBOL_REASON = 8;
    private static final int SYMBOL_MODULE_CRC = 16;

    /** {@code lkmpre_refusal}. */
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
        /** @return the symbol's name, read from the module's bytes */
        public String name(byte[] module) {
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

    /** Reads the patch out of the core's output buffer. */
    @FunctionalInterface
    public interface PatchReader {
        /**
         * @param preresolved indexes in {@code .symtab} of the symbols the core preresolved
         * @param outLength   {@code out_len}
         * @return the patch
         */
        ElfPatch read(int[] preresolved, long outLength);
    }

    /**
     * Reads what {@code lkmpre_preresolve()} wrote.
     *
     * @param result  the {@code lkmpre_module_result}, {@link #MODULE_RESULT_SIZE} bytes, in the core's byte order
     * @param results the {@code lkmpre_symbol_result} array, one per undefined symbol, same byte order
     * @param output  reads the patch, asked only when preresolved
     * @param message the error message, asked for only when the module failed
     * @return the result
     * @throws IllegalArgumentException if a code is none the core defines
     */
    public static NativeResult decode(ByteBuffer result, ByteBuffer results, PatchReader output,
                                      Supplier<String> message) {
        ModuleStatus status = status(result.getInt(STATUS));
        List<Symbol> left = new ArrayList<>();
        Optional<ElfPatch> patch = Optional.empty();
        if (status == ModuleStatus.PRERESOLVED) {
            int undefined = result.getInt(UNDEFINED);
            int[] resolved = new int[result.getInt(PRERESOLVED)];
            int n = 0;
            for (int i = 0; i < undefined; i++) {
                int at = i * SYMBOL_RESULT_SIZE;
                int reason = results.getInt(at + SYMBOL_REASON);
                if (reason != 0) {
                    left.add(symbol(results, at));
                } else if (n < resolved.length) {
                    resolved[n++] = results.getInt(at + SYMBOL_INDEX);
                }
            }
            if (n != resolved.length) {
                throw new IllegalStateException("native core counts " + resolved.length + " preresolved symbols, lists " + n);
            }
            patch = Optional.of(output.read(resolved, result.getLong(OUT_LEN)));
        }
        return of(result, status, left, patch, status == ModuleStatus.FAILED ? message.get() : "");
    }

    /**
     * Reads what {@code lkmpre_files_preresolve()} wrote for one file (include/lkmpre_files.h).
     *
     * @param result the {@code lkmpre_file_result}, {@link #FILE_RESULT_SIZE} bytes, in the core's byte order
     * @param detail its detail, copied; offsets in the result point into it
     * @return the result, with no patch (the file is written already); empty if a step before
     *         the core's decision failed (open, lock, read, write, memory)
     */
    public static Optional<NativeResult> decodeFile(ByteBuffer result, byte[] detail) {
        if (result.getInt(FILE_STEP) != 0) {
            return Optional.empty();
        }
        ModuleStatus status = status(result.getInt(STATUS));
        List<Symbol> left = new ArrayList<>();
        if (status == ModuleStatus.PRERESOLVED) {
            ByteBuffer d = nativeOrder(detail);
            int count = d.getInt(0);
            if (count != result.getInt(UNDEFINED) - result.getInt(PRERESOLVED)) {
                throw new IllegalStateException("native core lists " + count + " symbols left undefined, counts "
                        + (result.getInt(UNDEFINED) - result.getInt(PRERESOLVED)));
            }
            for (int i = 0; i < count; i++) {
                left.add(symbol(d, FILE_DETAIL_HEADER + i * SYMBOL_RESULT_SIZE));
            }
        }
        // A failed file's detail (the core's message) is not read: the per-module path does it again.
        return Optional.of(of(result, status, left, Optional.empty(), ""));
    }

    /** @return the {@code lkmpre_symbol_result} at {@code at}, a symbol left undefined */
    private static Symbol symbol(ByteBuffer results, int at) {
        return new Symbol(results.getInt(at + SYMBOL_NAME_OFFSET), reason(results.getInt(at + SYMBOL_REASON)),
                results.getLong(at + SYMBOL_MODULE_CRC));
    }

    /** @return the result whose {@code lkmpre_module_result} is {@code result}, with what was read besides it */
    private static NativeResult of(ByteBuffer result, ModuleStatus status, List<Symbol> left, Optional<ElfPatch> patch,
                                   String message) {
        return new NativeResult(status, refusal(result.getInt(REFUSAL)), result.getInt(MODULE_CLASS),
                result.getInt(MODULE_MACHINE), result.getInt(PRERESOLVED), result.getInt(LICENSE_OFFSET),
                result.getInt(LICENSE_LEN), left, patch, message);
    }

    /**
     * @param result the {@code lkmpre_module_result}, as for {@link #decode}
     * @return how many {@code lkmpre_symbol_result}s {@link #decode} reads: one per undefined
     *         symbol of a preresolved module, none for the others
     */
    public static int symbolResults(ByteBuffer result) {
        return status(result.getInt(STATUS)) == ModuleStatus.PRERESOLVED ? result.getInt(UNDEFINED) : 0;
    }

    /**
     * @param bytes a copy of a C struct or array, in the byte order of the machine running this JVM
     * @return a view for {@link #decode}
     */
    public static ByteBuffer nativeOrder(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
    }

    /** {@code lkmpre_module_status}, by value. */
    private static final ModuleStatus[] STATUSES = {ModuleStatus.PRERESOLVED, ModuleStatus.ALREADY_PRERESOLVED,
        ModuleStatus.REFUSED, ModuleStatus.FAILED};
    /** {@code lkmpre_refusal}, by value. */
    private static final Refusal[] REFUSALS = {Refusal.NONE, Refusal.SIGNED, Refusal.CLASS, Refusal.MACHINE,
        Refusal.VERMAGIC};
    /** {@code lkmpre_reason}, by value; 0 ({@code LKMPRE_RESOLVED}) is no reason to leave a symbol undefined. */
    private static final UnresolvedReason[] REASONS = {null, UnresolvedReason.NOT_EXPORTED_BY_VMLINUX,
        UnresolvedReason.GPL_ONLY, UnresolvedReason.NO_MODVERSIONS, UnresolvedReason.MISSING_VERSION,
        UnresolvedReason.CRC_MISMATCH, UnresolvedReason.NAMESPACE_NOT_IMPORTED, UnresolvedReason.ADDRESS_OUTSIDE_VMLINUX};

    /** @return {@code lkmpre_module_status} {@code code} as a status */
    public static ModuleStatus status(int code) {
        return code(STATUSES, code, "lkmpre_module_status");
    }

    /** @return {@code lkmpre_refusal} {@code code} as a refusal */
    public static Refusal refusal(int code) {
        return code(REFUSALS, code, "lkmpre_refusal");
    }

    /** @return {@code lkmpre_reason} {@code code} (1..7) as a reason */
    public static UnresolvedReason reason(int code) {
        return code(REASONS, code, "lkmpre_reason for a symbol left undefined");
    }

    /** @return the entry of {@code table} for a C enum value; an unknown value is an error, not an index */
    private static <T> T code(T[] table, int code, String what) {
        if (code < 0 || code >= table.length || table[code] == null) {
            throw new IllegalArgumentException("no " + what + " " + code);
        }
        return table[code];
    }

    /** @return the module's license value, if it has one */
    public Optional<String> license(byte[] module) {
        return licenseOffset == 0 ? Optional.empty()
                : Optional.of(new String(module, licenseOffset, licenseLength, StandardCharsets.ISO_8859_1));
    }
}
