package org.lkmpre;

/**
 * Thrown when an input file (ELF object, kernel image, Module.symvers, System.map, kernel
 * config) is truncated, malformed or otherwise unusable. This is the one exception type lkmpre
 * uses for bad input; the message always names the file and the problem on one line. Text taken
 * from the input (section and symbol names) may hold anything, so both the file name and the reason
 * pass through {@link OneLine}.
 */
public final class InputFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final String reason;

    /**
     * Creates an exception for {@code file} with a one-line {@code reason}.
     *
     * @param file   the file being read, as the user named it
     * @param reason what is wrong with it
     */
    public InputFormatException(String file, String reason) {
        this(file, reason, null);
    }

    /**
     * Creates an exception for {@code file} with a one-line {@code reason} and a cause.
     *
     * @param file   the file being read
     * @param reason what is wrong with it
     * @param cause  the underlying failure, for example a decompressor error
     */
    public InputFormatException(String file, String reason, Throwable cause) {
        super(OneLine.of(file) + ": " + OneLine.of(reason), cause);
        this.file = OneLine.of(file);
        this.reason = OneLine.of(reason);
    }

    /** @return the file that was being read */
    public String file() {
        return file;
    }

    /** @return what is wrong with the file, without the file name */
    public String reason() {
        return reason;
    }
}
