package org.lkmpre.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.internal.NativeLibrary;

/**
 * The C core's functions, linked once per JVM: the library is loaded for good, and each
 * downcall handle is made once (linking costs start-up time; docs/cli.md). Callers own all
 * memory. The provider has checked that the library exists and native access is enabled.
 */
final class Core {
    private static final SymbolLookup LIBRARY = load();
    static final MethodHandle INDEX_HANDLE_SIZE = downcall("lkmpre_index_handle_size", FunctionDescriptor.of(JAVA_LONG));
    static final MethodHandle INDEX_OPEN = downcall("lkmpre_index_open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    /** The per-module path's functions, linked when it is first used (the whole-file run does not need them). */
    static final class Modules {
        /** Critical with heap access: module, output and result arrays in place (about 0.1 ms a call, no upcalls). */
        static final MethodHandle PRERESOLVE = downcall("lkmpre_preresolve",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS,
                        ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS), Linker.Option.critical(true));

        private Modules() {
        }
    }

    /**
     * The whole-file run (lkmpre_files.h), linked when first used; absent from a library built
     * before it (a library named by {@code lkmpre.native.library}), and then not used.
     */
    static final class Files {
        static final Optional<MethodHandle> PRERESOLVE = optional("lkmpre_files_preresolve",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS));
        static final Optional<MethodHandle> RELEASE = optional("lkmpre_files_release",
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG));

        private Files() {
        }
    }

    /** The directory walk (lkmpre_files.h), linked when first used; absent from a library built before it. */
    static final class Walk {
        static final Optional<MethodHandle> WALK = optional("lkmpre_files_walk",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));

        private Walk() {
        }
    }

    /** The loader simulator's functions, linked when it first needs them (linking costs start-up time). */
    static final class Simulator {
        static final MethodHandle SCOPE_SIZE = downcall("lkmpre_scope_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT));
        static final MethodHandle SCOPE_INIT = downcall("lkmpre_scope_init",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        /** Critical with heap access: queries, results and counters in place. */
        static final MethodHandle RESOLVE = downcall("lkmpre_resolve",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS,
                        ADDRESS, ADDRESS), Linker.Option.critical(true));

        private Simulator() {
        }
    }

    private Core() {
    }

    @SuppressWarnings("restricted") // binding the C core is the point; the provider checks native access
    private static SymbolLookup load() {
        return SymbolLookup.libraryLookup(NativeLibrary.path().orElseThrow(), Arena.global());
    }

    /** @return a downcall handle for one of the library's functions */
    static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return optional(name, descriptor, options).orElseThrow();
    }

    /** @return a downcall handle for one of the library's functions, if the library has it */
    @SuppressWarnings("restricted")
    static Optional<MethodHandle> optional(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return LIBRARY.find(name).map(f -> Linker.nativeLinker().downcallHandle(f, descriptor, options));
    }

    /** @return the size of an index handle, rounded up to its 8-byte alignment */
    static long indexHandleSize() {
        try {
            return ((long) INDEX_HANDLE_SIZE.invokeExact() + 7) & ~7L;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Copies index bytes into {@code arena} and opens them with {@code lkmpre_index_open}.
     *
     * @param arena  where the index and its handle live
     * @param bytes  the index
     * @param handle handle memory, {@link #indexHandleSize()} bytes
     * @param ref    where the core stores the handle pointer
     * @param name   the index's name for messages
     * @throws InputFormatException if the core refuses the index
     */
    static void openIndex(Arena arena, byte[] bytes, MemorySegment handle, MemorySegment ref, String name) {
        MemorySegment index = arena.allocate(Math.max(1, bytes.length), 8);
        MemorySegment.copy(bytes, 0, index, JAVA_BYTE, 0, bytes.length);
        MemorySegment err = arena.allocate(NativeLibrary.ERROR_SIZE);
        int st;
        try {
            st = (int) INDEX_OPEN.invokeExact(index, (long) bytes.length, handle, handle.byteSize(), ref, err);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (st != 0) {
            throw new InputFormatException(name, err.getString(0));
        }
    }

    /** @return the NUL-terminated message in an {@code lkmpre_error} held in a Java array */
    static String message(byte[] err) {
        int n = 0;
        while (n < err.length && err[n] != 0) {
            n++;
        }
        return new String(err, 0, n, StandardCharsets.ISO_8859_1);
    }
}
