package org.lkmpre;

import java.io.IOException;
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
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".lkmpre-tmp");
        try {
            Files.write(tmp, data);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
