package org.lkmpre.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import org.lkmpre.index.KernelIndex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code lkmpre index}: build the export index once, for runs over thousands of modules. */
@Command(name = "index", mixinStandardHelpOptions = true,
        description = {"Write the kernel's export index (GNU hash + Bloom, SysV, sorted names; docs/index-format.md).",
            "`preresolve --index FILE` then skips reading and decompressing the kernel."})
final class IndexCommand implements Callable<Integer> {
    @Mixin
    KernelOptions kernelOptions;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "where to write the index")
    Path output;

    @Override
    public Integer call() throws Exception {
        byte[] index = KernelIndex.write(kernelOptions.read());
        Path dir = output.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + output.getFileName() + ".", ".lkmpre-tmp");
        try {
            Files.write(tmp, index);
            Files.move(tmp, output, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return 0;
    }
}
