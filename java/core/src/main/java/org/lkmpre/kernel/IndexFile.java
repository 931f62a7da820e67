package org.lkmpre.kernel;

import java.io.IOException;
import java.nio.file.Path;
import org.lkmpre.index.KernelIndex;

/**
 * A serialized export index ({@code lkmpre index}), read back into an export table.
 *
 * @param path the {@code .lkmidx} file
 */
public record IndexFile(Path path) implements KernelSource {
    @Override
    public Path primaryFile() {
        return path;
    }

    @Override
    public KernelSymbols read() throws IOException {
        return KernelIndex.read(path.toString(), KernelSource.readFile(path));
    }
}
