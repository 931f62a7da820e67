package org.lkmpre.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A binding that walks directories with the C library ({@code lkmpre_files_walk},
 * {@code include/lkmpre_files.h}): the regular files under a directory that are modules, or may be
 * temporary files of a killed run, the files {@code ModuleTree}'s walk in Java finds, in a fifth of
 * its time (the C walk takes readdir's file types and stats only the modules; no symbolic link is
 * followed by either).
 */
public interface NativeWalk {
    /** {@code LKMPRE_WALK_MODULE}: a module's name (else {@code LKMPRE_WALK_TEMPORARY}, a temporary file's). */
    int MODULE = 1;
    /** {@code sizeof(lkmpre_walk)}: the header before the files. */
    int HEADER_SIZE = 16;
    /** {@code sizeof(lkmpre_walk_file)}. */
    int FILE_SIZE = 32;

    /**
     * A regular file found.
     *
     * @param name   its path below the root, '/'-separated
     * @param size   its size (0 for a temporary file, reported by name alone)
     * @param device its device and inode: what tells two names of one file apart (0 for a temporary file)
     * @param inode  see {@code device}
     * @param module true for a module's name, false for a temporary file's
     */
    record Found(String name, long size, long device, long inode, boolean module) {
    }

    /**
     * @param root a directory, as a real path
     * @return the files under it, in the order of their names' bytes; empty where the walk is left
     *         to Java: it failed (Java's walk then says why: an unreadable directory, a path too
     *         long), or a path is not ASCII (a Java path cannot be made from the C library's bytes
     *         in every encoding)
     */
    Optional<List<Found>> walk(Path root);

    /**
     * @param path a path
     * @return true if the path is ASCII, and so names the same file in the C library as in Java
     */
    static boolean isAscii(String path) {
        return path.chars().allMatch(c -> c < 0x80);
    }

    /**
     * Reads the block {@code lkmpre_files_walk} wrote.
     *
     * @param bytes a copy of the block, exactly its {@code size} bytes
     * @return the files, or empty if a name is not ASCII
     * @throws IllegalStateException if the block is not one the library writes
     */
    static Optional<List<Found>> decode(byte[] bytes) {
        ByteBuffer block = NativeResult.nativeOrder(bytes);
        if (bytes.length < HEADER_SIZE) {
            throw new IllegalStateException("native core: a walk's block is shorter than its header");
        }
        long count = block.getLong(0);
        if (block.getLong(8) != block.limit() || count < 0 || count > (block.limit() - HEADER_SIZE) / FILE_SIZE) {
            throw new IllegalStateException("native core: a walk's block does not hold its files");
        }
        List<Found> found = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            int at = HEADER_SIZE + i * FILE_SIZE;
            int name = block.getInt(at + 24);
            if (name < HEADER_SIZE + count * FILE_SIZE || name >= bytes.length) {
                throw new IllegalStateException("native core: a walk's name lies outside its block");
            }
            int end = name;
            while (end < bytes.length && bytes[end] > 0) {
                end++; // bytes above 0x7f read as negative: not ASCII, and the loop stops
            }
            if (end == bytes.length) {
                throw new IllegalStateException("native core: a walk's name runs past its block");
            }
            if (bytes[end] != 0) {
                return Optional.empty();
            }
            found.add(new Found(new String(bytes, name, end - name, StandardCharsets.ISO_8859_1), block.getLong(at),
                    block.getLong(at + 8), block.getLong(at + 16), block.getInt(at + 28) == MODULE));
        }
        return Optional.of(found);
    }
}
