package org.lkmpre.kernel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.lkmpre.AtomicFile;
import org.lkmpre.InputFormatException;
import org.lkmpre.UserCache;
import org.lkmpre.index.KernelIndex;

/**
 * Export tables of kernel images kept between runs, one entry per image content, so that an
 * image is decompressed and read on the first run on that kernel only. An entry holds the
 * image's export index (docs/index-format.md) and the configuration it embeds, if any; it is
 * named after the image file's identity and content (see {@link #key}) and sealed by the CRC32C
 * of its own bytes, so a damaged or
 * truncated entry reads as absent and is written again. Entries are written to a temporary file
 * and renamed: concurrent runs at worst both write the same entry.
 *
 * <p>What an entry does not keep: the sizes of the export sections (the loader simulator's
 * kernel strip reads the image itself) and the order of the exports (nothing that preresolves
 * depends on it).
 */
public final class KernelCache {
    private static final byte[] MAGIC = "LKMCACH1".getBytes(StandardCharsets.ISO_8859_1);
    /** The seal: CRC32C of everything before it, which catches the damage a cache meets (torn writes, bit flips). */
    private static final int SEAL = 4;

    private final Path dir;

    /** @param dir where the entries are */
    public KernelCache(Path dir) {
        this.dir = dir;
    }

    /** @return the cache under {@link UserCache#root()} */
    public static KernelCache standard() {
        return new KernelCache(UserCache.root().resolve("exports"));
    }

    /**
     * Reads a kernel's export table as {@link KernelSource#read(Optional)} does, through the cache
     * for an image ({@link Vmlinux}, {@link Vmlinuz}); other sources are read as they are. A
     * cache that cannot be written (a read-only home) only costs the next run its speed.
     *
     * @param source the kernel
     * @param config an explicit {@code .config} file, or empty
     * @return the export table
     * @throws IOException          if the image cannot be read
     * @throws InputFormatException if the image is malformed
     */
    public KernelSymbols read(KernelSource source, Optional<Path> config) throws IOException {
        String file = source.primaryFile().toString();
        String origin;
        if (source instanceof Vmlinuz) {
            origin = Vmlinuz.origin(file);
        } else if (source instanceof Vmlinux) {
            origin = file;
        } else {
            return source.read(config);
        }
        Path entry = dir.resolve(key(source.primaryFile()) + ".lkmcache");
        Optional<KernelSymbols> cached = load(entry, origin);
        KernelSymbols symbols;
        if (cached.isPresent()) {
            symbols = cached.get();
        } else {
            byte[] bytes = KernelSource.readFile(source.primaryFile());
            symbols = source instanceof Vmlinuz ? Vmlinuz.parse(file, bytes) : Vmlinux.parse(origin, bytes);
            symbols = symbols.withIndex(store(entry, symbols));
        }
        return KernelSource.withConfig(symbols, source.primaryFile(), config);
    }

    /**
     * The name of an image's entry: the file's identity and times (device, inode, size,
     * modification and change time: a file written again gets a new change time) and the CRC32C
     * of its bytes (which also tells apart two images written within one tick of a coarse clock,
     * such as FAT's). A digest of the bytes would be the simpler key, but without the JIT's
     * intrinsics (the CLI runs C1 only) SHA-256 costs 100 ms per run for an 8 MB image, and even
     * over this short name its provider's start-up costs about 15 ms; CRC32C is an intrinsic in
     * every JIT tier. The bytes are summed as they are read, a megabyte at a time: a run that finds
     * its entry never holds the image (reading it whole into the heap took three times as long).
     */
    private static String key(Path image) throws IOException {
        KernelSource.requireFile(image);
        Map<String, Object> a = Files.readAttributes(image, "unix:dev,ino,ctime,lastModifiedTime");
        CRC32C crc = new CRC32C();
        long size = 0;
        try (FileChannel in = FileChannel.open(image)) {
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            for (int n; (n = in.read(chunk.clear())) >= 0; size += n) {
                crc.update(chunk.flip());
            }
        }
        return a.get("dev") + "-" + a.get("ino") + "-" + size + "-"
                + ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS) + "-"
                + ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS) + "-" + Integer.toHexString((int) crc.getValue());
    }

    private static Optional<KernelSymbols> load(Path entry, String origin) {
        byte[] data;
        try {
            data = Files.readAllBytes(entry);
        } catch (IOException e) {
            return Optional.empty(); // absent or unreadable: read the image instead
        }
        int body = data.length - SEAL;
        if (body < MAGIC.length + 8 || !Arrays.equals(data, 0, MAGIC.length, MAGIC, 0, MAGIC.length)
                || ByteBuffer.wrap(data, body, SEAL).order(ByteOrder.LITTLE_ENDIAN).getInt() != crc32c(data, body)) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(data, 0, body).order(ByteOrder.LITTLE_ENDIAN).position(MAGIC.length);
        int indexLength = b.getInt();
        if (indexLength < 0 || indexLength > b.remaining() - 4) {
            return Optional.empty();
        }
        byte[] index = new byte[indexLength];
        b.get(index);
        int configLength = b.getInt();
        if (configLength != b.remaining()) {
            return Optional.empty();
        }
        try {
            // The index was written from the image's own table: it says "configuration known"
            // exactly when the image embeds one, whose text the entry keeps.
            KernelSymbols symbols = KernelIndex.read(origin, index);
            return Optional.of(configLength == 0 ? symbols : symbols.withConfig(
                    KernelConfig.parse(Vmlinux.embeddedConfigOrigin(origin), Arrays.copyOfRange(data, body - configLength, body))));
        } catch (InputFormatException e) {
            return Optional.empty(); // sealed but not an index this version reads: write it again
        }
    }

    /** @return the index written into the entry, which the native backends then take as it is */
    private byte[] store(Path entry, KernelSymbols symbols) {
        byte[] index = KernelIndex.write(symbols);
        byte[] config = symbols.config().map(KernelCache::configText).orElse(new byte[0]);
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 8 + index.length + config.length + SEAL)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(index.length).put(index).putInt(config.length).put(config);
        b.putInt(crc32c(b.array(), b.position()));
        try {
            AtomicFile.write(entry, b.array());
        } catch (IOException e) {
            // No cache here: the next run reads the image again.
        }
        return index;
    }

    private static byte[] configText(KernelConfig config) {
        StringBuilder text = new StringBuilder();
        config.options().forEach((k, v) -> text.append("CONFIG_").append(k).append('=').append(v).append('\n'));
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static int crc32c(byte[] data, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, 0, length);
        return (int) crc.getValue();
    }
}
