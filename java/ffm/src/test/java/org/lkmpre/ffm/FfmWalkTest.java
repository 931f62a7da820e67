package org.lkmpre.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lkmpre.internal.NativeWalk;
import org.lkmpre.preresolve.ModuleTree;

/** The C library's walk finds what the JDK's walk finds, in the same order, and leaves to Java what it must. */
class FfmWalkTest {
    @TempDir
    Path dir;

    /** A tree with every kind of entry the walk meets: its root. */
    private Path tree() throws IOException, InterruptedException {
        Path root = Files.createDirectories(dir.resolve("tree"));
        for (String f : List.of("a.ko", "a-b/y.ko", "a/x.ko", "a/sub/deeper/z.ko.xz", "b/w.ko.zst", "b/v.ko.gz",
                "readme.txt", "c.ko.txt", "ko", ".hidden.ko", "b/.a.ko.lkmpre-2147483647-1.tmp", ".other.tmp", "z/.tmp")) {
            Files.createDirectories(root.resolve(f).getParent());
            Files.write(root.resolve(f), new byte[f.length() * 3]);
        }
        Files.createDirectories(root.resolve("empty/dir"));
        Files.createSymbolicLink(root.resolve("link.ko"), root.resolve("a.ko"));
        Files.createSymbolicLink(root.resolve("linkdir"), root.resolve("a"));
        Files.createLink(root.resolve("b/hard.ko"), root.resolve("a.ko"));
        new ProcessBuilder("mkfifo", root.resolve("fifo.ko").toString()).start().waitFor();
        return root;
    }

    /**
     * The walk's rule, by the JDK: regular files (links not followed) named as modules or .*.tmp,
     * by path bytes; a module with its size, device and inode, a temporary file with its name alone.
     */
    private static List<NativeWalk.Found> byTheJdk(Path root) throws IOException {
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                String name = f.getFileName().toString();
                boolean module = name.endsWith(".ko") || name.endsWith(".ko.xz") || name.endsWith(".ko.zst")
                        || name.endsWith(".ko.gz");
                if (a.isRegularFile() && (module || name.startsWith(".") && name.endsWith(".tmp"))) {
                    files.add(f);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        files.sort(Comparator.naturalOrder());
        List<NativeWalk.Found> found = new ArrayList<>();
        for (Path f : files) {
            Map<String, Object> a = Files.readAttributes(f, "unix:dev,ino,size");
            boolean module = !f.getFileName().toString().endsWith(".tmp"); // a temporary file: its name alone
            found.add(new NativeWalk.Found(root.relativize(f).toString(), module ? (Long) a.get("size") : 0,
                    module ? (Long) a.get("dev") : 0, module ? (Long) a.get("ino") : 0, module));
        }
        return found;
    }

    @Test
    void findsWhatTheJdkFindsInItsOrder() throws Exception {
        Path root = tree();
        List<NativeWalk.Found> expected = byTheJdk(root);
        assertEquals(List.of("a-b/y.ko", "a.ko", "a/sub/deeper/z.ko.xz", "a/x.ko", "b/.a.ko.lkmpre-2147483647-1.tmp",
                "b/hard.ko", "b/v.ko.gz", "b/w.ko.zst", ".hidden.ko", ".other.tmp", "z/.tmp").stream().sorted(
                        Comparator.comparing(Path::of)).toList(),
                expected.stream().map(NativeWalk.Found::name).toList());
        assertEquals(Optional.of(expected), FfmWalk.walk(root, FfmWalk.FIRST_BUFFER));
        // A buffer too small for the block: the library says how big, and the walk is made again.
        assertEquals(Optional.of(expected), FfmWalk.walk(root, 64));
        assertEquals(Optional.of(expected), FfmWalk.walk(Path.of(root + "/"), 16));
    }

    @Test
    void leavesToJavaWhatItCannotWalk() throws Exception {
        Path root = tree();
        assertEquals(Optional.empty(), FfmWalk.walk(root.resolve("missing"), FfmWalk.FIRST_BUFFER));
        assertEquals(Optional.empty(), FfmWalk.walk(root.resolve("a.ko"), FfmWalk.FIRST_BUFFER)); // not a directory
        Files.write(root.resolve("b/caf\u00e9.ko"), new byte[1]);
        assertEquals(Optional.empty(), FfmWalk.walk(root, FfmWalk.FIRST_BUFFER)); // a name Java must spell
    }

    /** ModuleTree walks with the library here, and gets the JDK walk's modules: each file once, hard links too. */
    @Test
    void aTreeCollectedThroughTheLibrary() throws Exception {
        Path root = tree();
        List<String> names = ModuleTree.collect(List.of(root, root.resolve("a/x.ko")), Optional.empty()).targets().stream()
                .map(ModuleTree.Target::name).toList();
        assertEquals(List.of("a-b/y.ko", "a.ko", "a/sub/deeper/z.ko.xz", "a/x.ko", "b/v.ko.gz", "b/w.ko.zst",
                ".hidden.ko").stream().sorted(Comparator.comparing(Path::of)).toList(), names);
        Files.write(root.resolve("b/caf\u00e9.ko"), new byte[1]);
        assertTrue(ModuleTree.collect(List.of(root), Optional.empty()).targets().stream()
                .anyMatch(t -> t.name().equals("b/caf\u00e9.ko")), "the Java walk takes the tree the library leaves");
    }
}
