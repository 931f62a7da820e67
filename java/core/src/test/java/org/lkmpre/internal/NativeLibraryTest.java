package org.lkmpre.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryTest {
    @TempDir
    Path cache;

    private static byte[] packaged() throws Exception {
        try (InputStream in = NativeLibrary.class.getResourceAsStream(NativeLibrary.resource("linux-x86_64"))) {
            assertNotNull(in, "the build packages liblkmpre.so for linux-x86_64");
            return in.readAllBytes();
        }
    }

    @Test
    void platformNames() {
        assertEquals("linux-x86_64", NativeLibrary.platform("Linux", "amd64"));
        assertEquals("linux-aarch64", NativeLibrary.platform("Linux", "aarch64"));
        assertEquals("macosx-aarch64", NativeLibrary.platform("Mac OS X", "aarch64"));
        assertNull(NativeLibrary.class.getResource(NativeLibrary.resource("freebsd-riscv64")));
    }

    /** The packaged library is the one the build made, and it is extracted once, by content. */
    @Test
    void extractsThePackagedLibraryOnce() throws Exception {
        byte[] library = packaged();
        assertArrayEquals(Files.readAllBytes(Path.of(System.getProperty("lkmpre.native.library"))), library);
        Path file = NativeLibrary.extract(library, cache);
        assertArrayEquals(library, Files.readAllBytes(file));
        assertTrue(file.getParent().getFileName().toString().matches("native-[0-9a-f]{1,8}-[0-9]+"), file.toString());
        Files.setLastModifiedTime(file, FileTime.fromMillis(0));
        assertEquals(file, NativeLibrary.extract(library, cache));
        assertEquals(0, Files.getLastModifiedTime(file).toMillis(), "reused, not written again");

        Files.write(file, new byte[] {1, 2, 3}); // damaged: replaced
        assertEquals(file, NativeLibrary.extract(library, cache));
        assertArrayEquals(library, Files.readAllBytes(file));

        byte[] other = library.clone();
        other[other.length - 1] ^= 1; // another version sits beside it
        Path second = NativeLibrary.extract(other, cache);
        assertTrue(!second.getParent().equals(file.getParent()));
    }

    /** Where the build packages an aarch64 library (ci/test requires it), it is one: EM_AARCH64. */
    @Test
    void packagedAarch64LibraryIsForAarch64() throws Exception {
        try (InputStream in = NativeLibrary.class.getResourceAsStream(NativeLibrary.resource("linux-aarch64"))) {
            if (in != null) {
                byte[] head = in.readNBytes(20);
                assertEquals(2, head[4], "ELFCLASS64");
                assertEquals(183, (head[18] & 0xff) | (head[19] & 0xff) << 8, "e_machine");
            }
        }
    }

    /** Many threads at first use: one complete file, no temporary left. */
    @Test
    void concurrentFirstUse() throws Exception {
        byte[] library = packaged();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Path>> all = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                all.add(pool.submit(() -> {
                    go.await();
                    return NativeLibrary.extract(library, cache);
                }));
            }
            go.countDown();
            Set<Path> paths = all.stream().map(f -> {
                try {
                    return f.get();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }).collect(Collectors.toSet());
            assertEquals(1, paths.size());
            assertArrayEquals(library, Files.readAllBytes(paths.iterator().next()));
            try (Stream<Path> s = Files.walk(cache)) {
                assertEquals(1, s.filter(Files::isRegularFile).count());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
