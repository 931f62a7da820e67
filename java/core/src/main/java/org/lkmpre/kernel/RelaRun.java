package org.lkmpre.kernel;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.function.LongPredicate;

/**
 * A raw kernel's {@code .rela.dyn}, found without section headers: the longest run of 24-byte
 * {@code Elf64_Rela} entries ({@code r_offset}, {@code r_info}, {@code r_addend}), 8-aligned,
 * whose {@code r_info} is of the kinds the kernel's boot code applies.
 *
 * @param start where the first entry lies in the image
 * @param count how many entries the run holds
 */
record RelaRun(int start, int count) {
    /** Bytes of an {@code Elf64_Rela}. */
    static final int ENTRY = 24;
    /** A run shorter than this is not a kernel's {@code .rela.dyn} (Debian's hold 100,000 and more). */
    private static final int MIN_ENTRIES = 64;

    /**
     * @param image the raw kernel, in its byte order
     * @param info  which {@code r_info} values the boot code's relocations have
     * @return the longest run, if it holds at least {@link #MIN_ENTRIES} entries
     */
    static Optional<RelaRun> longest(ByteBuffer image, LongPredicate info) {
        int start = 0;
        int count = 0;
        for (int phase = 0; phase < ENTRY; phase += 8) {
            int run = 0;
            for (int at = phase; at + ENTRY <= image.capacity(); at += ENTRY) {
                run = info.test(image.getLong(at + 8)) ? run + 1 : 0;
                if (run > count) {
                    count = run;
                    start = at + ENTRY - run * ENTRY;
                }
            }
        }
        return count < MIN_ENTRIES ? Optional.empty() : Optional.of(new RelaRun(start, count));
    }

    /** @return where entry {@code i} of the run lies */
    int entry(int i) {
        return start + ENTRY * i;
    }
}
