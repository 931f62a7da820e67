package org.lkmpre.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ByteSearchTest {
    /** The first match by definition: every start checked in turn. */
    private static int naive(byte[] hay, byte[] needle, int from, int to) {
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

    /** Small alphabets make overlapping, repeated and partial matches common. */
    @Test
    void findsTheFirstMatchAsANaiveScanDoes() {
        Random random = new Random(7);
        int found = 0;
        for (int trial = 0; trial < 20_000; trial++) {
            int alphabet = 1 + random.nextInt(4);
            byte[] hay = new byte[random.nextInt(64)];
            byte[] needle = new byte[random.nextInt(6)];
            for (int i = 0; i < hay.length; i++) {
                hay[i] = (byte) (random.nextInt(alphabet) - 1); // 0xff among them
            }
            for (int i = 0; i < needle.length; i++) {
                needle[i] = (byte) (random.nextInt(alphabet) - 1);
            }
            int from = random.nextInt(hay.length + 3) - 2;
            int to = random.nextInt(hay.length + 3);
            int expected = naive(hay, needle, from, to);
            assertEquals(expected, ByteSearch.indexOf(hay, needle, from, to),
                    () -> java.util.Arrays.toString(hay) + " " + java.util.Arrays.toString(needle) + " " + from + ".." + to);
            found += expected >= 0 ? 1 : 0;
        }
        assertEquals(true, found > 5_000 && found < 19_000, "matches in " + found + " trials");
    }
}
