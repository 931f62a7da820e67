package org.lkmpre.jna;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.NativeLongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.ModuleStatus;
import static org.lkmpre.preresolve.NativeLibrary.ERROR_SIZE;
import static org.lkmpre.preresolve.NativeLibrary.ERR_SPACE;
import static org.lkmpre.preresolve.NativeLibrary.MODULE_RESULT_SIZE;
import static org.lkmpre.preresolve.NativeLibrary.SYMBOL_RESULT_SIZE;

import org.lkmpre.preresolve.NativeLibrary;
import org.lkmpre.preresolve.NativeResult;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.Preresolver;

/**
 * The C core through JNA: the index is copied to native memory once; each module is one
 * downcall, with its bytes, output and results in native buffers for that call.
 */
final class JnaBackend implements Backend {
    /** The C functions used, as JNA maps them ({@code size_t} is {@code NativeLong} on Linux). */
    interface CoreCall extends Library {
        int lkmpre_preresolve(Pointer index, Pointer module, NativeLong len, int flags, Pointer out, NativeLong outCap,
                              NativeLongByReference outNeeded, Pointer results, NativeLong resultsCap,
                              NativeLongByReference resultsNeeded, Pointer result, Pointer err);

        NativeLong lkmpre_index_handle_size();

        int lkmpre_index_open(Pointer buf, NativeLong len, Pointer handle, NativeLong cap, PointerByReference index,
                              Pointer err);
    }

    private final Preresolver reference;
    private final CoreCall core;
    private final Memory index;
    private final Memory handleMemory;
    private final Pointer handle;
    private final int flags;

    JnaBackend(Preresolver reference) {
        this.reference = reference;
        this.core = Native.load(NativeLibrary.path().orElseThrow().toString(), CoreCall.class);
        byte[] bytes = KernelIndex.write(reference.kernel());
        this.index = new Memory(bytes.length);
        index.write(0, bytes, 0, bytes.length);
        this.handleMemory = new Memory(Math.max(8, core.lkmpre_index_handle_size().longValue()));
        Memory err = new Memory(ERROR_SIZE);
        PointerByReference ref = new PointerByReference();
        int st = core.lkmpre_index_open(index, new NativeLong(bytes.length), handleMemory,
                new NativeLong(handleMemory.size()), ref, err);
        if (st != 0) {
            throw new IllegalStateException("native core rejects the index: " + err.getString(0, StandardCharsets.ISO_8859_1.name()));
        }
        this.handle = ref.getValue();
        this.flags = NativeLibrary.flags(reference.options());
    }

    @Override
    public String name() {
        return "jna";
    }

    @Override
    public KernelSymbols kernel() {
        return reference.kernel();
    }

    @Override
    public Outcome preresolve(String path, byte[] data) {
        Memory module = new Memory(Math.max(1, data.length));
        module.write(0, data, 0, data.length);
        // Enough for every well-formed module: the image, plus copies of a name table and a
        // section header table that both fit in it, plus one header and padding.
        long outCap = 2L * data.length + 128;
        long resultsCap = Math.max(1, data.length / 16);
        NativeLongByReference outNeeded = new NativeLongByReference();
        NativeLongByReference resultsNeeded = new NativeLongByReference();
        Memory result = new Memory(MODULE_RESULT_SIZE);
        Memory err = new Memory(ERROR_SIZE);
        err.setByte(0, (byte) 0);
        while (true) {
            Memory out = new Memory(outCap);
            Memory results = new Memory(resultsCap * SYMBOL_RESULT_SIZE);
            int st = core.lkmpre_preresolve(handle, module, new NativeLong(data.length), flags, out, new NativeLong(outCap),
                    outNeeded, results, new NativeLong(resultsCap), resultsNeeded, result, err);
            if (st == ERR_SPACE) {
                outCap = Math.max(outCap, outNeeded.getValue().longValue());
                resultsCap = Math.max(resultsCap, resultsNeeded.getValue().longValue());
                continue;
            }
            if (st != 0) {
                throw new IllegalStateException(path + ": native core: " + err.getString(0, "ISO-8859-1"));
            }
            return reference.adopt(path, data, decode(result, results, out, err));
        }
    }

    private static NativeResult decode(Memory result, Memory results, Memory out, Memory err) {
        ModuleStatus status = NativeResult.status(result.getInt(0));
        int undefined = result.getInt(8);
        List<NativeResult.Symbol> left = new ArrayList<>();
        if (status == ModuleStatus.PRERESOLVED) {
            for (int i = 0; i < undefined; i++) {
                long at = (long) i * SYMBOL_RESULT_SIZE;
                int reason = results.getInt(at + 8);
                if (reason != 0) {
                    left.add(new NativeResult.Symbol(results.getInt(at + 4), NativeResult.reason(reason), results.getLong(at + 16)));
                }
            }
        }
        byte[] bytes = status == ModuleStatus.PRERESOLVED ? out.getByteArray(0, (int) result.getLong(32)) : new byte[0];
        return new NativeResult(status, NativeResult.Refusal.values()[result.getInt(4)], result.getInt(16), result.getInt(20),
                result.getInt(12), result.getInt(24), result.getInt(28), left, bytes,
                status == ModuleStatus.FAILED ? err.getString(0, "ISO-8859-1") : "");
    }
}
