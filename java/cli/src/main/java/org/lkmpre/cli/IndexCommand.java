package org.lkmpre.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.lkmpre.AtomicFile;
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
        AtomicFile.write(output, index);
        return 0;
    }
}
