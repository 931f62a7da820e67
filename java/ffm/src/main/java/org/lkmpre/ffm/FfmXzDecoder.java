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
import java.util.Arrays;
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
    /** Native output chunk: copied into the Java array each time it fills. */
    private static final long CHUNK = 4 << 20;

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
    @SuppressWarnings("restricted") // next_in and next_out point into segments of this call's arena
    public Optional<byte[]> decode(byte[] data, int at, long cap) {
        if (!Lzma.WHY.isEmpty() || at < 0 || at > data.length) {
            return Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stream = arena.allocate(STREAM_SIZE, 8); // zeroed: LZMA_STREAM_INIT
            if ((int) Lzma.DECODER.invokeExact(stream, -1L /* no memory limit */, 0) != LZMA_OK) {
                return Optional.empty();
            }
            try {
                MemorySegment in = arena.allocate(Math.max(1, data.length - at));
                MemorySegment.copy(data, at, in, JAVA_BYTE, 0, data.length - at);
                stream.set(ADDRESS, NEXT_IN, in);
                stream.set(JAVA_LONG, AVAIL_IN, (long) (data.length - at));
                MemorySegment out = arena.allocate(CHUNK);
                byte[] decoded = new byte[(int) Math.min(Integer.MAX_VALUE - 8, Math.min(cap, 8L * (data.length - at)))];
                long total = 0;
                while (true) {
                    stream.set(ADDRESS, NEXT_OUT, out);
                    stream.set(JAVA_LONG, AVAIL_OUT, CHUNK);
                    int ret = (int) Lzma.CODE.invokeExact(stream, LZMA_FINISH);
                    long produced = CHUNK - stream.get(JAVA_LONG, AVAIL_OUT);
                    if (total + produced > cap || total + produced > Integer.MAX_VALUE - 8) {
                        return Optional.empty();
                    }
                    if (total + produced > decoded.length) {
                        decoded = Arrays.copyOf(decoded, (int) Math.min(Integer.MAX_VALUE - 8,
                                Math.max(total + produced, 2L * decoded.length)));
                    }
                    MemorySegment.copy(out, JAVA_BYTE, 0, decoded, (int) total, (int) produced);
                    total += produced;
                    if (ret == LZMA_STREAM_END) {
                        return Optional.of(total == decoded.length ? decoded : Arrays.copyOf(decoded, (int) total));
                    }
                    if (ret != LZMA_OK) {
                        return Optional.empty();
                    }
                }
            } finally {
                Lzma.END.invokeExact(stream);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t); // invokeExact declares Throwable; these downcalls throw nothing else
        }
    }
}
