package org.lkmpre;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes a whole file so that readers see the old file or the new one, never a part. */
public final class AtomicFile {
    private AtomicFile() {
    }

    /**
     * Writes {@code data} to a temporary file beside {@code target}, then renames it over
     * {@code target}. On failure the temporary file is removed and {@code target} is untouched.
     *
     * @param target the file to write
     * @param data   its new contents
     * @throws IOException if the directory cannot be written
     */
    public static void write(Path target, byte[] data) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = temporaryFile(dir, "." + target.getFileName() + ".");
        boolean moved = false;
        try {
            Files.write(tmp, data);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp); // once moved, the name may be another writer's
            }
        }
    }

    /**
     * Creates a new empty file {@code dir/PREFIX PID-N.lkmpre-tmp}, N the first free number from
     * the clock's nanoseconds on, with the permissions any new file of the user gets (the umask's).
     * Files.createTempFile would draw a random name, and starting its SecureRandom costs about
     * 35 ms, a tenth of a run that writes one file.
     */
    private static Path temporaryFile(Path dir, String prefix) throws IOException {
        String pid = prefix + ProcessHandle.current().pid() + "-";
        long first = System.nanoTime();
        for (long n = first; ; n++) {
            try {
                return Files.createFile(dir.resolve(pid + Long.toHexString(n) + ".lkmpre-tmp"));
            } catch (FileAlreadyExistsException e) {
                if (n - first == 1000) {
                    throw e; // not other threads' files: something keeps every name taken
                }
            }
        }
    }
}
