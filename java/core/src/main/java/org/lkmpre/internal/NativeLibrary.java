package org.lkmpre.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.lkmpre.AtomicFile;
import org.lkmpre.UserCache;
import org.lkmpre.preresolve.PreresolveOptions;

/**
 * Where the C core's shared library ({@code liblkmpre.so}) is: the system property
 * {@code lkmpre.native.library}, else the environment variable {@code LKMPRE_NATIVE_LIBRARY},
 * else the copy packaged in this jar for the running platform ({@code linux-x86_64},
 * {@code linux-aarch64}), extracted
 * once into a cache directory named after the library's content, so that versions never mix.
 * Extraction writes a temporary file and renames it into place: processes and threads starting
 * at once all end with the same complete file. Without a writable cache it goes to a private
 * temporary directory. Where no library fits, the native backends report
 * why and {@code auto} falls back to the Java reference.
 */
public final class NativeLibrary {
    /** {@code lkmpre_preresolve} flag: strip an appended signature. */
    public static final int STRIP_SIGNATURE = 0x1;
    /** {@code LKMPRE_OUT_SPARSE}: only what changes is written into the image ({@link SparseOutput}). */
    public static final int OUT_SPARSE = 0x2;
    /** {@code LKMPRE_FILES_WRITE}: the whole-file run patches each file where it lies ({@link NativeFiles}). */
    public static final int FILES_WRITE = 0x100;
    /** How the JVM spells file names as bytes: the encoding paths are given to the C library in. */
    public static final Charset FILE_NAMES = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
    /** {@code LKMPRE_ERR_SPACE}: a caller buffer is too small. */
    public static final int ERR_SPACE = -3;
    /** {@code sizeof(lkmpre_error)}. */
    public static final int ERROR_SIZE = 200;
    private static final String FILE = "liblkmpre.so";

    private NativeLibrary() {
    }

    /** The packaged library, extracted on first use; a failure is kept as the reason. */
    private static final class Packaged {
        static final String PLATFORM = platform(System.getProperty("os.name"), System.getProperty("os.arch"));
        static final Path PATH;
        static final String WHY;

        static {
            Path path = null;
            String why = "";
            try (InputStream in = NativeLibrary.class.getResourceAsStream(resource(PLATFORM))) {
                if (in == null) {
                    why = "this build packages no native library for " + PLATFORM;
                } else {
                    byte[] library = in.readAllBytes();
                    try {
                        path = extract(library, UserCache.root());
                    } catch (IOException e) {
                        // No writable cache (a read-only home): a private directory for this process.
                        path = extract(library, Files.createTempDirectory("lkmpre-"));
                    }
                }
            } catch (IOException e) {
                why = "cannot extract the packaged native library: " + e;
            }
            PATH = path;
            WHY = why;
        }
    }

    /** @return the library file, if one is configured or packaged for this platform */
    public static Optional<Path> path() {
        String p = System.getProperty("lkmpre.native.library");
        if (p == null || p.isEmpty()) {
            p = System.getenv("LKMPRE_NATIVE_LIBRARY");
        }
        if (p != null && !p.isEmpty()) {
            return Optional.of(Path.of(p)).filter(Files::isRegularFile);
        }
        return Optional.ofNullable(Packaged.PATH);
    }

    /** @return why the library cannot be used, or empty */
    public static Optional<String> unavailable() {
        if (path().isPresent()) {
            return Optional.empty();
        }
        String configured = System.getProperty("lkmpre.native.library", System.getenv("LKMPRE_NATIVE_LIBRARY"));
        return Optional.of(configured != null && !configured.isEmpty() ? "no native library at " + configured
                : Packaged.WHY + " (set -Dlkmpre.native.library or LKMPRE_NATIVE_LIBRARY)");
    }

    /**
     * @param osName the {@code os.name} property
     * @param osArch the {@code os.arch} property
     * @return the platform name the jar packages libraries under, such as {@code linux-x86_64}
     */
    static String platform(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT).replace(" ", "");
        String arch = switch (osArch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> osArch;
        };
        return os + "-" + arch;
    }

    /** @return the class-path resource holding the library for {@code platform} */
    static String resource(String platform) {
        return "/org/lkmpre/native/" + platform + "/" + FILE;
    }

    /**
     * Puts {@code library} at {@code root/native-SHA/liblkmpre.so}, SHA being the first 16 hex
     * digits of its SHA-256, unless a file with exactly these bytes is already there.
     *
     * @param library the library's bytes
     * @param root    the cache directory
     * @return the file
     * @throws IOException if the file cannot be written
     */
    static Path extract(byte[] library, Path root) throws IOException {
        // The directory's name tells library versions apart; that the file there holds exactly
        // these bytes is checked below. CRC32C, not a digest: SHA-256's provider alone takes
        // tens of milliseconds to start.
        CRC32C crc = new CRC32C();
        crc.update(library);
        String version = Long.toHexString(crc.getValue()) + "-" + library.length;
        Path dir = Files.createDirectories(root.resolve("native-" + version));
        Path file = dir.resolve(FILE);
        if (Files.isRegularFile(file) && Arrays.equals(Files.readAllBytes(file), library)) {
            return file;
        }
        AtomicFile.write(file, library);
        return file;
    }

    /** @return the {@code lkmpre_preresolve} flags for {@code options} */
    public static int flags(PreresolveOptions options) {
        return options.stripSignature() ? STRIP_SIGNATURE : 0;
    }
}
