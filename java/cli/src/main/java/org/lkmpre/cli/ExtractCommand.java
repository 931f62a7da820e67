package org.lkmpre.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.lkmpre.AtomicFile;
import org.lkmpre.kernel.Vmlinuz;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lkmpre extract}: the vmlinux inside a compressed kernel image, like scripts/extract-vmlinux. */
@Command(name = "extract", mixinStandardHelpOptions = true,
        description = {"Write the vmlinux ELF image embedded in a compressed kernel image (vmlinuz, bzImage).",
            "Reading the extracted vmlinux is faster than decompressing the image on every run."})
final class ExtractCommand implements Callable<Integer> {
    @Option(names = "--kernel", required = true, paramLabel = "FILE", description = "compressed kernel image")
    Path kernel;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "where to write vmlinux")
    Path output;

    @Override
    public Integer call() throws Exception {
        byte[] vmlinux = Vmlinuz.extract(kernel.toString(), Files.readAllBytes(kernel));
        AtomicFile.write(output, vmlinux);
        return 0;
    }
}
