package org.lkmpre.ffm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.lkmpre.testing.Fixtures;
import org.tukaani.xz.FilterOptions;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.SingleXZInputStream;
import org.tukaani.xz.X86Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

/** liblzma through FFM decodes exactly what xz-java decodes, and nothing xz-java rejects. */
class FfmXzDecoderTest {
    private final FfmXzDecoder decoder = new FfmXzDecoder();

    /** A stream as the kernel's build writes one (x86 BCJ, LZMA2, CRC32), followed by a size field. */
    private static byte[] kernelStyle(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {1, 2, 3}); // the stream starts inside the image
        try (XZOutputStream xz = new XZOutputStream(out, new FilterOptions[] {new X86Options(), new LZMA2Options(6)},
                XZ.CHECK_CRC32)) {
            xz.write(data);
        }
        out.write(new byte[] {4, 3, 2, 1}); // bytes after the stream are not its own
        return out.toByteArray();
    }

    /** @return what xz-java decodes from the stream at 3, or empty where it fails */
    private static Optional<byte[]> reference(byte[] stream) {
        try (SingleXZInputStream in = new SingleXZInputStream(new ByteArrayInputStream(stream, 3, stream.length - 3))) {
            return Optional.of(in.readAllBytes());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Test
    void decodesWhatXzJavaDecodes() throws Exception {
        assertEquals(Optional.empty(), decoder.unavailable(), "liblzma.so.5 is part of every Debian system");
        byte[] vmlinux = Files.readAllBytes(Fixtures.vmlinux());
        byte[] noise = new byte[10 << 20]; // more than two output chunks
        new Random(21).nextBytes(noise);
        for (byte[] data : new byte[][] {vmlinux, noise, new byte[0]}) {
            byte[] stream = kernelStyle(data);
            assertArrayEquals(data, decoder.decode(stream, 3, Long.MAX_VALUE).orElseThrow());
            assertArrayEquals(data, decoder.decode(stream, 3, data.length).orElseThrow(), "exactly the cap");
            if (data.length > 0) {
                assertEquals(Optional.empty(), decoder.decode(stream, 3, data.length - 1L), "over the cap");
            }
        }
    }

    /** Cut and damaged streams: the fast path gives nothing, or exactly what xz-java gives. */
    @Test
    void damagedStreamsGiveNothingOrTheReference() throws Exception {
        byte[] stream = kernelStyle(Files.readAllBytes(Fixtures.vmlinux()));
        Random random = new Random(22);
        int decoded = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] bad = trial < 100 ? Arrays.copyOf(stream, 3 + random.nextInt(stream.length - 3)) : stream.clone();
            if (trial >= 100) {
                bad[3 + random.nextInt(bad.length - 3)] ^= (byte) (1 << random.nextInt(8));
            }
            Optional<byte[]> fast = decoder.decode(bad, 3, 1L << 30);
            Optional<byte[]> java = reference(bad);
            if (fast.isPresent()) {
                decoded++;
                assertArrayEquals(java.orElseThrow(() -> new AssertionError("liblzma decodes what xz-java rejects")), fast.get());
            }
        }
        assertTrue(decoded < 300, "no damage was noticed");
    }

    /** Debian's vmlinuz: the payload decodes to xz-java's bytes. */
    @Test
    void realKernelPayload() throws Exception {
        String dir = System.getProperty("lkmpre.realdata", "");
        Assumptions.assumeFalse(dir.isEmpty(), "no -Dlkmpre.realdata");
        Path vmlinuz;
        try (var boot = Files.list(Path.of(dir, "boot"))) {
            vmlinuz = boot.filter(f -> f.getFileName().toString().startsWith("vmlinuz-")).findFirst().orElseThrow();
        }
        byte[] image = Files.readAllBytes(vmlinuz);
        byte[] magic = {(byte) 0xfd, '7', 'z', 'X', 'Z', 0};
        int at = 0;
        while (at + magic.length <= image.length && !Arrays.equals(image, at, at + magic.length, magic, 0, magic.length)) {
            at++;
        }
        assertTrue(at + magic.length <= image.length, "an xz payload");
        byte[] java;
        try (SingleXZInputStream in = new SingleXZInputStream(new ByteArrayInputStream(image, at, image.length - at))) {
            java = in.readAllBytes();
        }
        assertArrayEquals(java, decoder.decode(image, at, 1L << 30).orElseThrow());
    }
}
