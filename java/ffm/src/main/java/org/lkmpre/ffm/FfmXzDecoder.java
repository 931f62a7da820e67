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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.lkmpre.internal.XzDecoder;

/**
 * The system's liblzma ({@code liblzma.so.5}, part of every Debian system) through
 * java.lang.foreign: {@code lzma_stream_decoder}, then {@code lzma_code} into a native chunk
 * that is copied out as it fills. {@code lzma_stream} is laid out for LP64 Linux, as the rest of
 * this binding is.
 */
public final class FfmXzDecoder implements XzDecoder {
    /** {@code sizeof(lzma_stream)} on LP64: six in/out fields, allocator, internal, four reserved pointers, four reserved integers, two enums. */
    private static final long STREAM_SIZE = 136;
    private static final long NEXT_IN = 0;
    private static final long AVAIL_IN = 8;
    private static final long NEXT_OUT = 24;
    private static final long AVAIL_OUT = 32;
    private static final int LZMA_OK = 0;
    private static final int LZMA_STREAM_END = 1;
    private static final int LZMA_FINISH = 3;
    /** Native output chunk. */
    private static final long CHUNK = 8 << 20;

    /** liblzma, linked on first use; empty (with the reason) where it cannot be. */
    private static final class Lzma {
        static final String WHY;
        static final MethodHandle DECODER;
        static final MethodHandle CODE;
        static final MethodHandle END;

        static {
            String why = "";
            MethodHandle decoder = null;
            MethodHandle code = null;
            MethodHandle end = null;
            if (!FfmXzDecoder.class.getModule().isNativeAccessEnabled()) {
                why = "native access is not enabled";
            } else {
                try {
                    SymbolLookup lib = library();
                    decoder = link(lib, "lzma_stream_decoder", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
                    code = link(lib, "lzma_code", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
                    end = link(lib, "lzma_end", FunctionDescriptor.ofVoid(ADDRESS));
                } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
                    why = "no liblzma.so.5: " + e.getMessage();
                }
            }
            WHY = why;
            DECODER = decoder;
            CODE = code;
            END = end;
        }

        @SuppressWarnings("restricted") // native access is enabled: checked above
        private static SymbolLookup library() {
            return SymbolLookup.libraryLookup("liblzma.so.5", Arena.global());
        }

        @SuppressWarnings("restricted")
        private static MethodHandle link(SymbolLookup lib, String name, FunctionDescriptor descriptor) {
            return Linker.nativeLinker().downcallHandle(lib.find(name).orElseThrow(), descriptor);
        }
    }

    @Override
    public Optional<String> unavailable() {
        return Lzma.WHY.isEmpty() ? Optional.empty() : Optional.of(Lzma.WHY);
    }

    @Override
    public Optional<byte[]> decode(byte[] data, int at, long cap) {
        if (!Lzma.WHY.isEmpty() || at < 0 || at > data.length) {
            return Optional.empty();
        }
        // Output in malloc'd chunks (not zeroed first, as an arena's are), copied once into a
        // Java array of the exact size: no garbage for the collector to copy.
        List<MemorySegment> chunks = new ArrayList<>();
        MemorySegment in = MemorySegment.NULL;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stream = arena.allocate(STREAM_SIZE, 8); // zeroed: LZMA_STREAM_INIT
            if ((int) Lzma.DECODER.invokeExact(stream, -1L /* no memory limit */, 0) != LZMA_OK) {
                return Optional.empty();
            }
            try {
                in = Libc.malloc(Math.max(1, data.length - at)); // not zeroed first: copied over at once
                MemorySegment.copy(data, at, in, JAVA_BYTE, 0, data.length - at);
                stream.set(ADDRESS, NEXT_IN, in);
                stream.set(JAVA_LONG, AVAIL_IN, (long) (data.length - at));
                long total = 0;
                int ret = LZMA_OK;
                while (ret == LZMA_OK) {
                    MemorySegment out = Libc.malloc(CHUNK);
                    chunks.add(out);
                    stream.set(ADDRESS, NEXT_OUT, out);
                    stream.set(JAVA_LONG, AVAIL_OUT, CHUNK);
                    ret = (int) Lzma.CODE.invokeExact(stream, LZMA_FINISH);
                    total += CHUNK - stream.get(JAVA_LONG, AVAIL_OUT);
                    if (total > cap || total > Integer.MAX_VALUE - 8) {
                        return Optional.empty();
                    }
                }
                if (ret != LZMA_STREAM_END) {
                    return Optional.empty();
                }
                byte[] decoded = new byte[(int) total];
                for (int k = 0; k < chunks.size(); k++) {
                    long offset = k * CHUNK;
                    MemorySegment.copy(chunks.get(k), JAVA_BYTE, 0, decoded, (int) offset, (int) Math.min(CHUNK, total - offset));
                }
                return Optional.of(decoded);
            } finally {
                Lzma.END.invokeExact(stream);
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        } finally {
            chunks.forEach(Libc::free);
            Libc.free(in);
        }
    }
}
