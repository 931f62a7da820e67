package org.lkmpre.preresolve;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the C core's shared library ({@code liblkmpre.so}) is: the system property
 * {@code lkmpre.native.library}, else the environment variable {@code LKMPRE_NATIVE_LIBRARY}.
 * The launcher and the build set one of them to {@code native/build/liblkmpre.so}.
 */
public final class NativeLibrary {
    /** {@code lkmpre_preresolve} flag: strip an appended signature. */
    public static final int STRIP_SIGNATURE = 0x1;
    /** {@code LKMPRE_ERR_SPACE}: a caller buffer is too small. */
    public static final int ERR_SPACE = -3;
    /** {@code sizeof(lkmpre_error)}. */
    public static final int ERROR_SIZE = 200;
    /** {@code sizeof(lkmpre_symbol_result)} on LP64 and ILP32 alike. */
    public static final int SYMBOL_RESULT_SIZE = 24;
    /** {@code sizeof(lkmpre_module_result)}. */
    public static final int MODULE_RESULT_SIZE = 40;

    private NativeLibrary() {
    }

    /** @return the library file, if one is configured and exists */
    public static Optional<Path> path() {
        String p = System.getProperty("lkmpre.native.library");
        if (p == null || p.isEmpty()) {
            p = System.getenv("LKMPRE_NATIVE_LIBRARY");
        }
        return p == null || p.isEmpty() ? Optional.empty() : Optional.of(Path.of(p)).filter(Files::isRegularFile);
    }

    /** @return why the library cannot be used, or empty */
    public static Optional<String> unavailable() {
        return path().isPresent() ? Optional.empty()
                : Optional.of("no native library (set -Dlkmpre.native.library or LKMPRE_NATIVE_LIBRARY)");
    }

    /** @return the {@code lkmpre_preresolve} flags for {@code options} */
    public static int flags(PreresolveOptions options) {
        return options.stripSignature() ? STRIP_SIGNATURE : 0;
    }
}
