package org.lkmpre.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.internal.NativeWalk;

/**
 * {@code lkmpre_files_walk} through FFM: one downcall walks a directory; where its block outgrew the
 * buffer, another with a buffer of the size it asked for (three in all at most, for a growing tree).
 */
final class FfmWalk {
    /** The first buffer: the Debian tree's 4023 modules take 290 KB. */
    static final long FIRST_BUFFER = 1 << 20;

    private FfmWalk() {
    }

    /**
     * @param root  a directory, as a real path of ASCII characters
     * @param first the size of the first buffer tried
     * @return as {@link NativeWalk#walk}
     */
    static Optional<List<NativeWalk.Found>> walk(Path root, long first) {
        if (Core.Walk.WALK.isEmpty()) {
            return Optional.empty(); // an older library
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment path = call.allocateFrom(root.toString(), NativeLibrary.FILE_NAMES);
            MemorySegment needed = call.allocate(JAVA_LONG);
            MemorySegment error = call.allocate(JAVA_INT);
            long cap = first;
            for (int attempt = 0; attempt < 3; attempt++) {
                MemorySegment out = call.allocate(cap, 8);
                int st = (int) Core.Walk.WALK.get().invokeExact(path, out, cap, needed, error);
                if (st == 0) {
                    long size = needed.get(JAVA_LONG, 0);
                    return NativeWalk.decode(out.asSlice(0, size).toArray(JAVA_BYTE));
                }
                if (st != NativeLibrary.ERR_SPACE) {
                    return Optional.empty(); // Java's walk says why
                }
                cap = needed.get(JAVA_LONG, 0); // the tree grew between the walks, perhaps more than once
            }
            return Optional.empty();
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
