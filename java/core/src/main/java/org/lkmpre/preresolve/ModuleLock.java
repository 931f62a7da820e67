package org.lkmpre.preresolve;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Objects;

/**
 * An exclusive lock on one module file, held by a run that writes the module where it lies from
 * before it reads the state it will patch until after its last write, so that concurrent runs
 * (parallel build jobs, a re-run while one is going) patch each module once: the second finds it
 * preresolved. It is an advisory {@code fcntl} lock on the file (the C tool lkmpre-tree takes the
 * open-file-description kind, which conflicts with it), so it dies with its process, and a run
 * holds one at a time, so runs never deadlock. A run that renames a new file over the module
 * keeps the lock on the old one until the rename is done; whoever waited then finds another file
 * at the path and locks that one. All reading and in-place writing goes through
 * {@link #channel()}: closing another channel on a locked file would drop the lock.
 */
public final class ModuleLock implements Closeable {
    /** How long a run waits for a module another run holds before it reports the module failed. */
    public static final Duration WAIT = Duration.ofSeconds(60);
    /** Why a module could not be locked after {@link #WAIT}. */
    public static final String HELD = "locked by another run for " + WAIT.toSeconds() + " s";
    private static final long POLL_MILLIS = 10;

    private final FileChannel channel;

    private ModuleLock(FileChannel channel) {
        this.channel = channel;
    }

    /**
     * Opens and locks the module file {@code file} names once the lock is granted, waiting up to
     * {@link #WAIT} for another run to release it.
     *
     * @throws IOException if the file cannot be opened, or is still locked after {@link #WAIT}
     *                     (the message says so)
     */
    public static ModuleLock acquire(Path file) throws IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Object before = key(file);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            boolean locked;
            try {
                locked = tryLock(channel) != null;
                if (locked && Objects.equals(before, key(file))) {
                    return new ModuleLock(channel);
                }
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            channel.close(); // not granted; or granted, but another run renamed a new file over the path
            if (locked) {
                continue;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException(HELD);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the lock on " + file);
            }
        }
    }

    private static Object key(Path file) throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null; // another thread of this run holds it (the same file named twice)
        }
    }

    /** @return the locked channel: read and write the module only through it */
    public FileChannel channel() {
        return channel;
    }

    /** @return the module's bytes as they are now, read through the locked channel */
    public byte[] read() throws IOException {
        ModuleBuffer buffer = new ModuleBuffer(channel.size());
        buffer.read(channel);
        return buffer.exact();
    }

    /** Releases the lock and closes the file. */
    @Override
    public void close() throws IOException {
        channel.close();
    }
}
