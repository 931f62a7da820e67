package org.lkmpre.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The C library's {@code malloc} and {@code free}, and the unchecked rethrow every downcall
 * needs, for the core's binding and for liblzma's alike: apart from {@link Core}, so that using
 * them does not load the core's library. Memory {@code malloc} hands out is not touched until
 * written, so a large buffer costs only the pages written into it, where an {@code Arena}
 * zeroes every page first.
 */
final class Libc {
    private static final MethodHandle MALLOC = link("malloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG));
    private static final MethodHandle FREE = link("free", FunctionDescriptor.ofVoid(ADDRESS));

    private Libc() {
    }

    @SuppressWarnings("restricted") // the providers check native access before anything links
    private static MethodHandle link(String name, FunctionDescriptor descriptor) {
        Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), descriptor);
    }

    /**
     * @param size bytes wanted
     * @return {@code size} bytes from {@code malloc}, to be given back with {@link #free}
     * @throws OutOfMemoryError if there is no memory
     */
    @SuppressWarnings("restricted") // malloc's result is sized to what was asked for
    static MemorySegment malloc(long size) {
        try {
            MemorySegment p = (MemorySegment) MALLOC.invokeExact(size);
            if (p.equals(MemorySegment.NULL)) {
                throw new OutOfMemoryError("malloc(" + size + ") failed");
            }
            return p.reinterpret(size);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Gives back what {@link #malloc} returned. */
    static void free(MemorySegment p) {
        try {
            FREE.invokeExact(p);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** @return what a downcall threw, unchecked (invokeExact declares Throwable) */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
