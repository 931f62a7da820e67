package org.lkmpre;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/** Reads a decompressing stream to its end with a limit: the guard against decompression bombs. */
public final class CappedRead {
    private CappedRead() {
    }

    /**
     * Reads {@code in} to the end.
     *
     * @param file name for messages
     * @param in   the stream
     * @param cap  the most bytes accepted
     * @param what what is being decompressed, for the message ("decompressed data")
     * @return the bytes
     * @throws InputFormatException if more than {@code cap} bytes come out
     * @throws IOException          if the stream fails
     */
    public static byte[] readAll(String file, InputStream in, long cap, String what) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        long total = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            total += n;
            if (total > cap) {
                throw new InputFormatException(file, what + " exceeds the limit of " + cap + " bytes");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
