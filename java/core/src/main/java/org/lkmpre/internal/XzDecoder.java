package org.lkmpre.internal;

import java.util.Optional;

/**
 * Decodes an xz stream with the system's liblzma, for the bindings to provide (a service): a
 * kernel image's payload (66 MB for Debian's amd64 kernel) decodes in about half the time
 * xz-java takes, which is most of a first run on a kernel. Only a fast path: where it gives
 * nothing, xz-java decodes, and its answer (or its error) is the reference.
 */
public interface XzDecoder {
    /** @return why the decoder cannot run here (no liblzma, no native access), or empty */
    Optional<String> unavailable();

    /**
     * Decodes the single xz stream at {@code at} (bytes after its end are ignored).
     *
     * @param data holds the stream
     * @param at   where it starts
     * @param cap  most bytes the stream may decode to
     * @return the decoded bytes; empty if the stream does not decode, or decodes to more than
     *         {@code cap} bytes (xz-java then says why)
     */
    Optional<byte[]> decode(byte[] data, int at, long cap);
}
