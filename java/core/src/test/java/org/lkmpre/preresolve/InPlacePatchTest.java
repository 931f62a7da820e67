package org.lkmpre.preresolve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lkmpre.kernel.Vmlinux;
import org.lkmpre.module.UndoRecord;
import org.lkmpre.testing.Fixtures;
import static org.lkmpre.testing.Outcomes.patched;

/**
 * InPlacePatch reads every plain module a run sees, hostile ones included: it recognizes what a
 * killed patch left and nothing else, and never throws. (Writing and finishing are tested end to
 * end in the CLI's TreeToolTest and KillDuringRewriteTest.)
 */
class InPlacePatchTest {
    @TempDir
    Path tmp;

    private static byte[] preresolved(byte[] original) throws Exception {
        Preresolver p = Preresolver.create(new Vmlinux(Fixtures.vmlinux()).read(), PreresolveOptions.DEFAULTS);
        return patched(p.preresolve("fx_good.ko", original), original);
    }

    /** What a patch killed between steps 2 and 3 leaves: the original, then the finished module's tail. */
    private static byte[] staleTail(byte[] original, byte[] finished) {
        byte[] m = Arrays.copyOf(original, finished.length);
        System.arraycopy(finished, original.length, m, original.length, finished.length - original.length);
        return m;
    }

    @Test
    void recognizesOnlyWhatAKilledPatchLeaves() throws Exception {
        byte[] original = Files.readAllBytes(Fixtures.module("fx_good"));
        byte[] finished = preresolved(original);
        byte[] staleTail = staleTail(original, finished);
        assertArrayEquals(original, withoutStaleTail(staleTail));
        assertArrayEquals(original, withoutStaleTail(original));
        assertArrayEquals(finished, withoutStaleTail(finished), "a finished module keeps its tail");

        byte[] marked = staleTail.clone();
        System.arraycopy(finished, 0, marked, 0, 64);
        assertArrayEquals(original, InPlacePatch.unfinished("fx_good.ko", marked, marked.length).orElseThrow());
        assertEquals(Optional.empty(), InPlacePatch.unfinished("fx_good.ko", finished, finished.length));
        assertEquals(Optional.empty(), InPlacePatch.unfinished("fx_good.ko", original, original.length));
    }

    @Test
    void hostileBytesAreLeftToTheBackend() throws Exception {
        byte[] original = Files.readAllBytes(Fixtures.module("fx_good"));
        byte[] finished = preresolved(original);
        byte[] staleTail = staleTail(original, finished);
        Random random = new Random(20261203);
        int recognized = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] m = (i % 2 == 0 ? staleTail : finished).clone();
            for (int f = 1 + random.nextInt(6); f > 0; f--) {
                int at = random.nextBoolean() ? m.length - 1 - random.nextInt(Math.min(m.length, 400)) : random.nextInt(m.length);
                m[at] = (byte) random.nextInt(256);
            }
            byte[] image = withoutStaleTail(m);
            assertTrue(image == m || image.length < m.length, "an image, or the bytes as they are");
            recognized += image == m ? 0 : 1;
            InPlacePatch.unfinished("mutant.ko", m, m.length).ifPresent(o -> assertTrue(o.length <= m.length));
        }
        assertTrue(recognized > 1000, recognized + " stale tails recognized among the mutants");
        for (int cut = 0; cut <= finished.length; cut += 7) {
            byte[] m = Arrays.copyOf(finished, cut);
            withoutStaleTail(m);
            InPlacePatch.unfinished("cut.ko", m, m.length);
        }
    }

    /** @return the original image when {@code data} ends in a stale tail, else {@code data} */
    private static byte[] withoutStaleTail(byte[] data) {
        return UndoRecord.staleTail(data).stream().mapToObj(n -> Arrays.copyOf(data, n)).findFirst().orElse(data);
    }
}
