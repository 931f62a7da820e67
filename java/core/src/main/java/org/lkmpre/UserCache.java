package org.lkmpre;

import java.nio.file.Path;

/** Where lkmpre keeps what it can compute again: the native library, kernels' export indexes. */
public final class UserCache {
    private UserCache() {
    }

    /**
     * @return the system property {@code lkmpre.cache}, else {@code $XDG_CACHE_HOME/lkmpre}, else
     *         {@code ~/.cache/lkmpre}
     */
    public static Path root() {
        String dir = System.getProperty("lkmpre.cache");
        if (dir != null && !dir.isEmpty()) {
            return Path.of(dir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        return xdg != null && !xdg.isEmpty() ? Path.of(xdg, "lkmpre") : Path.of(System.getProperty("user.home"), ".cache", "lkmpre");
    }
}
