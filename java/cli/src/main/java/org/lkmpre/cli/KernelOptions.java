package org.lkmpre.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.lkmpre.kernel.IndexFile;
import org.lkmpre.kernel.KernelCache;
import org.lkmpre.kernel.KernelSource;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.kernel.SymversMap;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Options that name the kernel: an image, or Module.symvers with System.map. */
final class KernelOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--kernel", paramLabel = "FILE", description = "vmlinux, or the image a boot loader takes (bzImage, vmlinuz, zImage, ARM64 Image, s390 image)")
    Path kernel;

    @Option(names = "--symvers", paramLabel = "FILE", description = "Module.symvers of the kernel build (with --system-map)")
    Path symvers;

    @Option(names = "--system-map", paramLabel = "FILE", description = "System.map of the kernel build (with --symvers)")
    Path systemMap;

    @Option(names = "--index", paramLabel = "FILE", description = "an export index written by `lkmpre index`")
    Path index;

    @Option(names = "--config", paramLabel = "FILE",
            description = "kernel .config (default: embedded IKCONFIG, else .config or config-RELEASE beside the kernel)")
    Path config;

    /** Reads the export table the options name. */
    KernelSymbols read() throws IOException {
        return source().read(Optional.ofNullable(config));
    }

    /**
     * Reads the export table the options name, an image's through {@link KernelCache#standard()}:
     * decompressed and read on the first run on that kernel only.
     */
    KernelSymbols readCached() throws IOException {
        return KernelCache.standard().read(source(), Optional.ofNullable(config));
    }

    private KernelSource source() throws IOException {
        KernelSource source;
        boolean symversPair = symvers != null && systemMap != null;
        int named = (kernel != null ? 1 : 0) + (index != null ? 1 : 0) + (symvers != null || systemMap != null ? 1 : 0);
        if (named != 1 || (symvers != null || systemMap != null) && !symversPair) {
            throw new ParameterException(spec.commandLine(),
                    "name the kernel with one of --kernel FILE, --index FILE, or both --symvers FILE and --system-map FILE");
        }
        if (kernel != null) {
            source = KernelSource.detect(kernel);
        } else if (index != null) {
            source = new IndexFile(index);
        } else {
            source = new SymversMap(symvers, systemMap);
        }
        return source;
    }
}
