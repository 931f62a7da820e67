package org.lkmpre.preresolve;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * The bytes of one module, read into an array that a worker reuses for every module it
 * processes, sized once for the tree's largest module: a tree of 400 MB then allocates no
 * module-sized garbage (which the collector promoted and kept until the end of the run). Not
 * thread-safe: one per worker.
 */
final class ModuleBuffer {
    /** Reads at most this much at once, so that the JDK's temporary direct buffer stays small. */
    private static final int CHUNK = 1 << 20;

    /** Allocated at once up to this; a larger module (a file that grew) is read into a new array. */
    private static final long MAX_INITIAL = 256L << 20;

    private byte[] bytes;
    private int length;

    /** @param expected the largest module this buffer is expected to hold */
    ModuleBuffer(long expected) {
        bytes = new byte[(int) Math.min(Math.max(expected, 0), MAX_INITIAL)];
    }

    /** @return the array holding the module (longer than it) */
    byte[] bytes() {
        return bytes;
    }

    /** @return the module's length */
    int length() {
        return length;
    }

    /**
     * @return exactly the module's bytes: the array itself when the module fills it (then valid
     *         until the next {@link #read}), else a copy
     */
    byte[] exact() {
        return length == bytes.length ? bytes : Arrays.copyOf(bytes, length);
    }

    /**
     * Reads the whole file {@code in} has open, from its start.
     *
     * @throws IOException if it cannot be read, or is too large for a module
     */
    void read(FileChannel in) throws IOException {
        long size = in.size();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IOException("file of " + size + " bytes is too large for a module");
        }
        if (bytes.length < size) {
            bytes = new byte[(int) size];
        }
        int at = 0;
        while (at < size) {
            int n = in.read(ByteBuffer.wrap(bytes, at, (int) Math.min(CHUNK, size - at)), at);
            if (n < 0) {
                break; // the file shrank while it was read: what is there
            }
            at += n;
        }
        length = at;
    }
}
