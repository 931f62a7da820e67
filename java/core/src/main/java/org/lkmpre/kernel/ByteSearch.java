package org.lkmpre.kernel;

/** Finds byte patterns in kernel images (banner, IKCONFIG markers, compressed payload magics). */
final class ByteSearch {
    private ByteSearch() {
    }

    /** @return the first index of {@code needle} in {@code hay[from, to)}, or -1 */
    static int indexOf(byte[] hay, byte[] needle, int from, int to) {
        int last = Math.min(to, hay.length) - needle.length;
        outer:
        for (int i = Math.max(from, 0); i <= last; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
