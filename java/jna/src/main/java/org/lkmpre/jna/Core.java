package org.lkmpre.jna;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.NativeLongByReference;
import org.lkmpre.InputFormatException;
import org.lkmpre.internal.NativeLibrary;

/**
 * The C core's functions as JNA maps them ({@code size_t} is {@code NativeLong} on Linux), the
 * library loaded once per JVM. The provider has checked that the library exists.
 */
interface Core extends Library {
    /** The loaded library. */
    Core LIBRARY = Native.load(NativeLibrary.path().orElseThrow().toString(), Core.class);

    NativeLong lkmpre_index_handle_size();

    int lkmpre_index_open(Pointer buf, NativeLong len, Pointer handle, NativeLong cap, Pointer index, Pointer err);

    int lkmpre_preresolve(Pointer index, Pointer module, NativeLong len, int flags, Pointer out, NativeLong outCap,
                          NativeLongByReference outNeeded, Pointer results, NativeLong resultsCap,
                          NativeLongByReference resultsNeeded, Pointer result, Pointer err);

    int lkmpre_files_preresolve(Pointer index, Pointer paths, NativeLong n, int flags, int threads, Pointer results);

    void lkmpre_files_release(Pointer results, NativeLong n);

    NativeLong lkmpre_scope_size(Pointer tables, int ntables);

    int lkmpre_scope_init(Pointer tables, int ntables, Pointer mem, NativeLong cap, Pointer scope, Pointer err);

    int lkmpre_resolve(Pointer scope, Pointer names, NativeLong namesLen, Pointer queries, NativeLong n, int strategy,
                       int flags, Pointer out, long[] stats, Pointer err);

    /** @return the size of an index handle, rounded up to its 8-byte alignment */
    static long indexHandleSize() {
        return (LIBRARY.lkmpre_index_handle_size().longValue() + 7) & ~7L;
    }

    /**
     * Copies index bytes to native memory and opens them with {@code lkmpre_index_open}.
     *
     * @param bytes  the index
     * @param handle handle memory, {@link #indexHandleSize()} bytes
     * @param ref    where the core stores the handle pointer
     * @param name   the index's name for messages
     * @return the native copy of the index, which must outlive the handle
     * @throws InputFormatException if the core refuses the index
     */
    static Memory openIndex(byte[] bytes, Pointer handle, Pointer ref, String name) {
        Memory index = new Memory(Math.max(1, bytes.length));
        index.write(0, bytes, 0, bytes.length);
        try (Memory err = new Memory(NativeLibrary.ERROR_SIZE)) {
            if (LIBRARY.lkmpre_index_open(index, new NativeLong(bytes.length), handle, new NativeLong(indexHandleSize()),
                    ref, err) != 0) {
                index.close();
                throw new InputFormatException(name, err.getString(0, "ISO-8859-1"));
            }
        }
        return index;
    }
}
