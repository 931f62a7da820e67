package org.lkmpre.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.testing.Fixtures;

/** The export cache gives what reading the image gives, and never trusts a damaged entry. */
class KernelCacheTest {
    @TempDir
    Path tmp;

    private static final Path VMLINUZ = Fixtures.x86_64().resolve("boot/vmlinuz-" + Fixtures.RELEASE);
    private static final Path KASLR = Fixtures.x86_64().resolve("boot/vmlinux-ikconfig-kaslr");

    /** What matters to preresolving: origin, exports, identity, word size, machine, configuration. */
    private static void assertSame(KernelSymbols want, KernelSymbols got) {
        assertEquals(want.origin(), got.origin());
        assertEquals(new HashSet<>(want.exports()), new HashSet<>(got.exports()));
        assertEquals(want.identity(), got.identity());
        assertEquals(want.wordSize(), got.wordSize());
        assertEquals(want.machine(), got.machine());
        assertEquals(want.config(), got.config());
        assertArrayEquals(KernelIndex.write(want), KernelIndex.write(got), "the index a native backend is given");
    }

    private List<Path> entries() throws Exception {
        try (Stream<Path> s = Files.list(tmp.resolve("c"))) {
            return s.toList();
        }
    }

    @Test
    void secondReadComesFromTheCacheAndEqualsTheImage() throws Exception {
        KernelCache cache = new KernelCache(tmp.resolve("c"));
        for (Path image : List.of(VMLINUZ, KASLR, Fixtures.vmlinux())) {
            KernelSource source = KernelSource.detect(image);
            KernelSymbols direct = source.read(Optional.empty());
            assertSame(direct, cache.read(source, Optional.empty()));
            assertSame(direct, cache.read(source, Optional.empty()));
        }
        assertEquals(3, entries().size());
        // The configuration embedded in the image survives the cache (KASLR refusal names it).
        KernelSymbols kaslr = cache.read(KernelSource.detect(KASLR), Optional.empty());
        assertTrue(kaslr.config().orElseThrow().randomizesBase());
        assertEquals("embedded IKCONFIG in " + KASLR, kaslr.config().orElseThrow().origin());
        // An explicit configuration still wins, as without a cache.
        Path config = Fixtures.x86_64().resolve("boot/config-" + Fixtures.RELEASE);
        assertEquals(config.toString(), cache.read(KernelSource.detect(KASLR), Optional.of(config)).config().orElseThrow().origin());
    }

    @Test
    void aCopyOfTheImageIsNamedWhereItIs() throws Exception {
        KernelCache cache = new KernelCache(tmp.resolve("c"));
        Path copy = Files.createDirectories(tmp.resolve("boot")).resolve("vmlinuz-" + Fixtures.RELEASE);
        Files.copy(VMLINUZ, copy);
        cache.read(KernelSource.detect(VMLINUZ), Optional.empty());
        KernelSymbols there = cache.read(KernelSource.detect(copy), Optional.empty());
        assertEquals(2, entries().size(), "another file: its own entry");
        assertSame(KernelSource.detect(copy).read(Optional.empty()), there);
    }

    @Test
    void damagedEntriesAreReadAsAbsentAndWrittenAgain() throws Exception {
        KernelCache cache = new KernelCache(tmp.resolve("c"));
        KernelSource source = KernelSource.detect(VMLINUZ);
        KernelSymbols direct = source.read(Optional.empty());
        cache.read(source, Optional.empty());
        Path entry = entries().get(0);
        byte[] good = Files.readAllBytes(entry);
        for (int at = 0; at < good.length; at += Math.max(1, good.length / 97)) {
            byte[] bad = good.clone();
            bad[at] ^= 0x10;
            Files.write(entry, bad);
            assertSame(direct, cache.read(source, Optional.empty()));
            assertArrayEquals(good, Files.readAllBytes(entry), "flipped byte " + at + ": entry written again");
        }
        for (int cut : new int[] {0, 7, 16, good.length / 2, good.length - 1}) {
            Files.write(entry, java.util.Arrays.copyOf(good, cut));
            assertSame(direct, cache.read(source, Optional.empty()));
            assertArrayEquals(good, Files.readAllBytes(entry), "cut at " + cut);
        }
    }

    @Test
    void aCacheThatCannotBeWrittenOnlyCostsSpeed() throws Exception {
        Path notADirectory = Files.writeString(tmp.resolve("c"), "a file where the cache would be");
        KernelSource source = KernelSource.detect(VMLINUZ);
        assertSame(source.read(Optional.empty()), new KernelCache(notADirectory).read(source, Optional.empty()));
        assertTrue(Files.isRegularFile(notADirectory));
    }

    @Test
    void anImageWrittenAgainIsReadAgain() throws Exception {
        KernelCache cache = new KernelCache(tmp.resolve("c"));
        Path boot = Files.createDirectories(tmp.resolve("boot")).resolve("vmlinux");
        Files.copy(Fixtures.vmlinux(), boot);
        KernelSymbols first = cache.read(KernelSource.detect(boot), Optional.empty());
        Files.copy(KASLR, boot, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(boot, Files.getLastModifiedTime(Fixtures.vmlinux()));
        KernelSymbols second = cache.read(KernelSource.detect(boot), Optional.empty());
        assertSame(KernelSource.detect(boot).read(Optional.empty()), second);
        assertTrue(second.config().isPresent() && first.config().isEmpty(), "the second image's own table");
    }
}
