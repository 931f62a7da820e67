package org.lkmpre.jna;

import static org.lkmpre.internal.NativeLibrary.ERROR_SIZE;
import static org.lkmpre.internal.NativeLibrary.ERR_SPACE;
import static org.lkmpre.internal.NativeResult.FILE_DETAIL;
import static org.lkmpre.internal.NativeResult.FILE_DETAIL_LEN;
import static org.lkmpre.internal.NativeResult.FILE_RESULT_SIZE;
import static org.lkmpre.internal.NativeResult.MODULE_RESULT_SIZE;
import static org.lkmpre.internal.NativeResult.SYMBOL_RESULT_SIZE;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import com.sun.jna.ptr.NativeLongByReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.internal.NativeFiles;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.internal.NativeResult;
import org.lkmpre.internal.ReportBuilder;
import org.lkmpre.internal.SparseOutput;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.ModuleReport;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.Preresolver;

/**
 * The C core through JNA: the index is copied to native memory once; each module is one
 * downcall, with its bytes, output and results in native buffers for that call, and files that
 * {@code ModuleTree} writes where they lie go to the core's whole-file run, one call a batch. The native
 * memory is freed by the garbage collector ({@link #close} does nothing: JNA memory freed while
 * another thread still used the index would be read after its release).
 */
final class JnaBackend implements Backend, NativeFiles {
    private final Preresolver reference;
    private final ReportBuilder reports;
    /** The native copy of the index: the handle points into it. */
    private final Memory index;
    private final Memory handleMemory;
    private final Pointer handle;
    private final int flags;

    JnaBackend(Preresolver reference) {
        this.reference = reference;
        this.reports = new ReportBuilder(reference.kernel());
        this.handleMemory = new Memory(Core.indexHandleSize());
        Memory ref = new Memory(Native.POINTER_SIZE);
        try {
            this.index = Core.openIndex(index(reference.kernel()), handleMemory, ref, "index");
        } catch (InputFormatException e) {
            throw new IllegalStateException("native core rejects the index Java wrote: " + e.reason(), e);
        }
        this.handle = ref.getPointer(0);
        this.flags = NativeLibrary.flags(reference.options()) | NativeLibrary.OUT_SPARSE;
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
        return preresolve(path, data, data.length);
    }

    /** Copies only the module's bytes to native memory, whatever the buffer's length. */
    @Override
    public Outcome preresolve(String path, byte[] data, int length) {
        Memory module = new Memory(Math.max(1, length));
        module.write(0, data, 0, length);
        // Enough for every well-formed module: the image, plus copies of a name table and a
        // section header table that both fit in it, plus one header and padding.
        long outCap = 2L * length + 128;
        long resultsCap = Math.max(1, length / 16);
        NativeLongByReference outNeeded = new NativeLongByReference();
        NativeLongByReference resultsNeeded = new NativeLongByReference();
        Memory result = new Memory(MODULE_RESULT_SIZE);
        Memory err = new Memory(ERROR_SIZE);
        err.setByte(0, (byte) 0);
        while (true) {
            Memory out = new Memory(outCap);
            Memory results = new Memory(resultsCap * SYMBOL_RESULT_SIZE);
            int st = Core.LIBRARY.lkmpre_preresolve(handle, module, new NativeLong(length), flags, out, new NativeLong(outCap),
                    outNeeded, results, new NativeLong(resultsCap), resultsNeeded, result, err);
            if (st == ERR_SPACE) {
                outCap = Math.max(outCap, outNeeded.getValue().longValue());
                resultsCap = Math.max(resultsCap, resultsNeeded.getValue().longValue());
                continue;
            }
            if (st != 0) {
                throw new IllegalStateException(path + ": native core: " + err.getString(0, "ISO-8859-1"));
            }
            NativeResult r = NativeResult.decode(view(result), view(results),
                    (resolved, n) -> SparseOutput.patch(path, data, length, resolved, n, out::getByteArray),
                    () -> err.getString(0, "ISO-8859-1"));
            return reports.fromNative(reference, path, data, length, r);
        }
    }

    /**
     * One call for all the files: the core reads, decides and patches them on its own threads;
     * this decodes the results. Paths go to the core in the JVM's file name encoding.
     */
    @Override
    public List<Optional<ModuleReport>> preresolveFiles(List<Path> files, List<String> names, boolean write, int threads) {
        int n = files.size();
        StringArray paths = new StringArray(files.stream().map(Path::toString).toArray(String[]::new), NativeLibrary.FILE_NAMES.name());
        Memory results = new Memory((long) Math.max(1, n) * FILE_RESULT_SIZE);
        int fileFlags = NativeLibrary.flags(reference.options()) | (write ? NativeLibrary.FILES_WRITE : 0);
        int st;
        try {
            st = Core.LIBRARY.lkmpre_files_preresolve(handle, paths, new NativeLong(n), fileFlags, Math.max(1, threads), results);
        } catch (UnsatisfiedLinkError e) {
            return Collections.nCopies(n, Optional.empty()); // an older library: the per-module path does them
        }
        if (st != 0) {
            throw new IllegalStateException("native core: lkmpre_files_preresolve returned " + st);
        }
        try {
            List<Optional<ModuleReport>> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long at = (long) i * FILE_RESULT_SIZE;
                long length = results.getLong(at + FILE_DETAIL_LEN);
                byte[] detail = length == 0 ? new byte[0] : results.getPointer(at + FILE_DETAIL).getByteArray(0, Math.toIntExact(length));
                out.add(reports.fromFile(names.get(i), NativeResult.nativeOrder(results.getByteArray(at, FILE_RESULT_SIZE)), detail));
            }
            return out;
        } finally {
            Core.LIBRARY.lkmpre_files_release(results, new NativeLong(n));
            results.close();
            paths.close();
        }
    }

    /** @return a view of native memory the core wrote a struct into, in the core's byte order */
    private static ByteBuffer view(Memory written) {
        return written.getByteBuffer(0, written.size()).order(ByteOrder.nativeOrder());
    }

    /** @return the index the table was read from, else one written from it */
    private static byte[] index(KernelSymbols kernel) {
        return kernel.index().orElseGet(() -> KernelIndex.write(kernel));
    }
}
