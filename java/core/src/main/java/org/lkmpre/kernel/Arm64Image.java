package org.lkmpre.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalLong;

/**
 * The link address of an ARM64 Image, which nothing in its header gives: arm64 kernels are
 * linked with {@code --no-apply-dynamic-relocs}, so the places of their {@code .rela.dyn}'s
 * {@code R_AARCH64_RELATIVE} relocations hold 0 until the boot code fills them, and only under
 * the link address do the places the relocations name (as addresses) all hold 0 in the Image
 * (or, for a few, their addend).
 */
final class Arm64Image {
    /** {@code R_AARCH64_RELATIVE}: the relocation arm64's boot code applies to the Image. */
    private static final long R_AARCH64_RELATIVE = 1027;

    private Arm64Image() {
    }

    /**
     * The link address of an ARM64 Image: its {@code .rela.dyn} is the longest run of
     * {@code R_AARCH64_RELATIVE} entries, and under the link address alone every place they
     * name lies in the Image and holds 0 (the boot code fills it) or, for a few, its addend.
     *
     * @param file the image, for messages
     * @param raw  the Image
     * @return its link address (the address of its first byte)
     * @throws org.lkmpre.InputFormatException if no run of relocations is found, or no address,
     *                                         or two, fit them
     */
    static long linkAddress(String file, byte[] raw) {
        ByteBuffer bytes = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        RelaRun rela = RelaRun.longest(bytes, info -> info == R_AARCH64_RELATIVE).orElseThrow(() -> RawImage.refuse(file,
                RawImage.Kind.ARM64_IMAGE, "no R_AARCH64_RELATIVE relocations found, from which its link address follows"));
        long[] places = new long[rela.count()];
        long[] addends = new long[rela.count()];
        long low = Long.MAX_VALUE;
        long high = Long.MIN_VALUE;
        for (int i = 0; i < rela.count(); i++) {
            places[i] = bytes.getLong(rela.entry(i));
            addends[i] = bytes.getLong(rela.entry(i) + 16);
            low = Math.min(low, places[i]);
            high = Math.max(high, places[i]);
        }
        // Every place is a word of the Image: base <= place <= base + length - 8.
        long lowest = high - (raw.length - 8);
        if (high - low < 0 || high - low > raw.length - 8) {
            throw RawImage.refuse(file, RawImage.Kind.ARM64_IMAGE, "its R_AARCH64_RELATIVE places span more than the Image");
        }
        OptionalLong found = OptionalLong.empty();
        for (long base = lowest + Math.floorMod(low - lowest, 8); base <= low; base += 8) {
            if (holdsZeroOrAddend(bytes, places, addends, base)) {
                if (found.isPresent()) {
                    throw RawImage.refuse(file, RawImage.Kind.ARM64_IMAGE, "two link addresses fit its relocations (0x"
                            + Long.toHexString(found.getAsLong())
                            + " and 0x" + Long.toHexString(base) + ")");
                }
                found = OptionalLong.of(base);
            }
        }
        return found.orElseThrow(() -> RawImage.refuse(file, RawImage.Kind.ARM64_IMAGE,
                "no link address fits its R_AARCH64_RELATIVE relocations"));
    }

    private static boolean holdsZeroOrAddend(ByteBuffer bytes, long[] places, long[] addends, long base) {
        for (int i = 0; i < places.length; i++) {
            long at = places[i] - base;
            if (at < 0 || at > bytes.capacity() - 8) {
                return false;
            }
            long held = bytes.getLong((int) at);
            if (held != 0 && held != addends[i]) {
                return false;
            }
        }
        return true;
    }
}
