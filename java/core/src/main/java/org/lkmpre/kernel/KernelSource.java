package org.lkmpre.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;

/**
 * Where a kernel's export table comes from: an uncompressed {@code vmlinux}, a compressed
 * {@code vmlinuz}, or {@code Module.symvers} with {@code System.map}.
 */
public sealed interface KernelSource permits Vmlinux, Vmlinuz, SymversMap, IndexFile {
    /**
     * Reads the export table.
     *
     * @return the kernel's exports and identity; the configuration if the image embeds one
     * @throws IOException           if a file cannot be read
     * @throws InputFormatException  if a file is malformed or exports nothing
     */
    KernelSymbols read() throws IOException;

    /** @return the file that names this kernel: the image, or {@code Module.symvers} */
    Path primaryFile();

    /**
     * Reads the export table with the kernel's configuration: {@code config} when given, else
     * the configuration the image embeds (IKCONFIG), else one found beside the primary file
     * (see {@link #findConfigBeside}).
     *
     * @param config an explicit {@code .config} file, or empty
     * @return the export table, with a configuration if one was found
     * @throws IOException          if a file cannot be read
     * @throws InputFormatException if a file is malformed
     */
    default KernelSymbols read(Optional<Path> config) throws IOException {
        return withConfig(read(), primaryFile(), config);
    }

    /**
     * @param symbols what a source read from {@code primary}
     * @param primary the source's {@link #primaryFile}
     * @param config  an explicit {@code .config} file, or empty
     * @return {@code symbols} with the configuration {@link #read(Optional)} chooses
     * @throws IOException if a configuration file cannot be read
     */
    static KernelSymbols withConfig(KernelSymbols symbols, Path primary, Optional<Path> config) throws IOException {
        if (config.isPresent()) {
            return symbols.withConfig(KernelConfig.parse(config.get().toString(), readFile(config.get())));
        }
        if (symbols.config().isPresent()) {
            return symbols;
        }
        return findConfigBeside(primary).map(symbols::withConfig).orElse(symbols);
    }

    /**
     * Chooses {@link Vmlinux} for an ELF file and {@link Vmlinuz} for anything else.
     *
     * @param kernel a vmlinux or vmlinuz file
     * @return the source
     * @throws IOException if the file cannot be read
     */
    static KernelSource detect(Path kernel) throws IOException {
        requireFile(kernel);
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(kernel)) {
            if (in.readNBytes(head, 0, 4) == 4 && ElfFile.hasElfMagic(head)) {
                return new Vmlinux(kernel);
            }
        }
        return new Vmlinuz(kernel);
    }

    /**
     * Finds the configuration of a kernel image from the files beside it: {@code .config} (a
     * kernel build tree) or {@code config-RELEASE} for an image named {@code vmlinu[xz]-RELEASE}
     * (a distribution's {@code /boot}).
     *
     * @param kernel the kernel image
     * @return the configuration, if such a file exists
     * @throws IOException if the file exists but cannot be read
     */
    static Optional<KernelConfig> findConfigBeside(Path kernel) throws IOException {
        Path dir = kernel.toAbsolutePath().getParent();
        String name = kernel.getFileName().toString();
        Path candidate = dir.resolve(".config");
        if (name.matches("vmlinu[xz]-.+")) {
            candidate = dir.resolve("config-" + name.substring("vmlinuz-".length()));
        }
        try {
            return Optional.of(KernelConfig.parse(candidate.toString(), Files.readAllBytes(candidate)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Reads a whole input file, naming it in the error when it is missing. */
    static byte[] readFile(Path path) throws IOException {
        requireFile(path);
        return Files.readAllBytes(path);
    }

    static void requireFile(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new InputFormatException(path.toString(), Files.exists(path) ? "not a regular file" : "no such file");
        }
    }
}
