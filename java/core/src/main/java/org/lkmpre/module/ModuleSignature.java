package org.lkmpre.module;

/**
 * An appended module signature: the signature data, a {@code struct module_signature} and the
 * string {@code "~Module signature appended~\n"}, after the ELF image.
 *
 * @param imageLength where the ELF image ends and the signature trailer starts
 * @param idType      {@code id_type} (2 = PKCS#7)
 * @param sigLength   {@code sig_len}: bytes of signature data
 */
public record ModuleSignature(int imageLength, int idType, int sigLength) {
    /** The magic string that ends a signed module. */
    public static final String MAGIC = "~Module signature appended~\n";
    /** Size of {@code struct module_signature}. */
    public static final int INFO_SIZE = 12;
}
