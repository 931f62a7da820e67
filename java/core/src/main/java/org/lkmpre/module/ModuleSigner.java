package org.lkmpre.module;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.lkmpre.InputFormatException;

/**
 * Appends a module signature the way the kernel's {@code scripts/sign-file} does: a detached
 * PKCS#7 (CMS) signature over the module bytes, without signed attributes or certificates, the
 * signer named by issuer and serial number; then {@code struct module_signature} ({@code id_type}
 * 2 = PKCS#7, {@code sig_len} big-endian) and the magic string. Built on BouncyCastle.
 */
public final class ModuleSigner {
    private final PrivateKey key;
    private final X509Certificate cert;
    private final String hash;

    private ModuleSigner(PrivateKey key, X509Certificate cert, String hash) {
        this.key = key;
        this.cert = cert;
        this.hash = hash;
    }

    /**
     * Loads a signing key (PEM: PKCS#8 or traditional) and its X.509 certificate (PEM or DER).
     *
     * @param keyFile  the private key
     * @param certFile the certificate
     * @param hash     the digest: sha256, sha384, sha512, sha224 or sha1
     * @return the signer
     * @throws IOException          if a file cannot be read
     * @throws InputFormatException if a file holds no usable key or certificate, or the hash is unknown
     */
    public static ModuleSigner load(Path keyFile, Path certFile, String hash) throws IOException {
        String h = hash.toLowerCase(Locale.ROOT);
        if (!List.of("sha1", "sha224", "sha256", "sha384", "sha512").contains(h)) {
            throw new InputFormatException(hash, "unknown hash: use sha256, sha384, sha512, sha224 or sha1");
        }
        return new ModuleSigner(readKey(keyFile), readCert(certFile), h);
    }

    private static PrivateKey readKey(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(r)) {
            Object o = pem.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) {
                return conv.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (o instanceof PrivateKeyInfo info) {
                return conv.getPrivateKey(info);
            }
            throw new InputFormatException(file.toString(), "holds no unencrypted private key in PEM form");
        }
    }

    private static X509Certificate readCert(Path file) throws IOException {
        byte[] data = Files.readAllBytes(file);
        try {
            X509CertificateHolder holder;
            if (data.length > 0 && data[0] == 0x30) {
                holder = new X509CertificateHolder(data);
            } else {
                try (PEMParser pem = new PEMParser(new java.io.StringReader(new String(data, StandardCharsets.US_ASCII)))) {
                    Object o = pem.readObject();
                    if (!(o instanceof X509CertificateHolder h)) {
                        throw new InputFormatException(file.toString(), "holds no X.509 certificate (PEM or DER)");
                    }
                    holder = h;
                }
            }
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (CertificateException | IOException e) {
            if (e instanceof InputFormatException ife) {
                throw ife;
            }
            throw new InputFormatException(file.toString(), "holds no usable X.509 certificate: " + e.getMessage(), e);
        }
    }

    /**
     * Signs a module.
     *
     * @param module the unsigned module bytes
     * @return the module with its signature appended
     */
    public byte[] sign(byte[] module) {
        byte[] signature;
        try {
            String algorithm = hash.toUpperCase(Locale.ROOT) + "with" + (key.getAlgorithm().equals("EC") ? "ECDSA" : "RSA");
            CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
            gen.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build())
                    .setDirectSignature(true) // no signed attributes, as sign-file's default
                    .build(new JcaContentSignerBuilder(algorithm).build(key), cert));
            signature = gen.generate(new CMSProcessableByteArray(module), false).getEncoded("DER");
        } catch (CMSException | OperatorCreationException | CertificateException | IOException e) {
            throw new IllegalStateException("signing failed: " + e.getMessage(), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(module.length + signature.length + 40);
        out.writeBytes(module);
        out.writeBytes(signature);
        // struct module_signature: algo, hash, id_type (2: PKCS#7), signer_len, key_id_len, pad[3], sig_len (BE)
        out.writeBytes(new byte[] {0, 0, 2, 0, 0, 0, 0, 0});
        int n = signature.length;
        out.writeBytes(new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
        out.writeBytes(ModuleSignature.MAGIC.getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
