package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Re-signing: the appended signature verifies with openssl, an independent CMS implementation. */
class SigningTest {
    private static final String MAGIC = "~Module signature appended~\n";

    @TempDir
    Path tmp;
    Path key;
    Path cert;

    private static int run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue();
    }

    @BeforeEach
    void makeKey() throws Exception {
        key = tmp.resolve("signing_key.pem");
        cert = tmp.resolve("signing_key.x509");
        assertEquals(0, run(tmp, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-outform", "DER", "-out", cert.toString(), "-subj", "/CN=lkmpre test key/", "-days", "2"));
    }

    /** Splits a signed module into body and PKCS#7 signature, checking the trailer on the way. */
    private static byte[][] split(byte[] signed) {
        byte[] magic = MAGIC.getBytes(StandardCharsets.US_ASCII);
        int m = signed.length - magic.length;
        assertArrayEquals(magic, Arrays.copyOfRange(signed, m, signed.length));
        ByteBuffer info = ByteBuffer.wrap(signed, m - 12, 12);
        byte[] head = new byte[8];
        info.get(head);
        assertArrayEquals(new byte[] {0, 0, 2, 0, 0, 0, 0, 0}, head, "PKCS#7, no signer name or key id");
        int sigLen = info.getInt();
        int bodyLen = m - 12 - sigLen;
        return new byte[][] {Arrays.copyOf(signed, bodyLen), Arrays.copyOfRange(signed, bodyLen, bodyLen + sigLen)};
    }

    @Test
    void signatureVerifiesWithOpenssl() throws Exception {
        Path fx = CliRun.fixtures();
        Path out = tmp.resolve("out");
        Path signedIn = fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_signed.ko");
        CliRun r = CliRun.of("preresolve", "--kernel", fx.resolve("boot/vmlinux").toString(), "--strip-signature",
                "--sign-key", key.toString(), "--sign-cert", cert.toString(), "--out", out.toString(), signedIn.toString());
        assertEquals(0, r.status(), r.out() + r.err());
        byte[][] parts = split(Files.readAllBytes(out.resolve("fx_signed.ko")));
        // The body is exactly the unsigned preresolved module.
        Path plain = tmp.resolve("plain");
        assertEquals(0, CliRun.of("preresolve", "--kernel", fx.resolve("boot/vmlinux").toString(), "--out", plain.toString(),
                fx.resolve("root/lib/modules/6.1.0-lkmpre-fixture/kernel/drivers/fx/fx_good.ko").toString()).status());
        assertArrayEquals(Files.readAllBytes(plain.resolve("fx_good.ko")), parts[0]);
        Files.write(tmp.resolve("body"), parts[0]);
        Files.write(tmp.resolve("sig.p7s"), parts[1]);
        List<String> verify = List.of("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s",
                "-content", "body", "-certfile", cert.getFileName().toString(), "-noverify", "-out", "/dev/null");
        assertEquals(0, run(tmp, verify.toArray(String[]::new)), Files.readString(tmp.resolve("openssl.log")));
        // And it can fail: one changed byte of the body breaks it.
        parts[0][100] ^= 1;
        Files.write(tmp.resolve("body"), parts[0]);
        assertNotEquals(0, run(tmp, verify.toArray(String[]::new)));
    }

    @Test
    void keyWithoutCertIsAUsageError() {
        Path fx = CliRun.fixtures();
        CliRun r = CliRun.of("preresolve", "--kernel", fx.resolve("boot/vmlinux").toString(), "--sign-key", key.toString(),
                fx.resolve("root").toString());
        assertEquals(2, r.status());
    }
}
