package org.lkmpre.cli;

import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Where rewritten modules go: in place (the default) or under another directory. */
final class DestinationOptions {
    @Option(names = "--in-place", description = "rewrite the modules where they are (the default)")
    boolean inPlace;

    @Option(names = "--out", paramLabel = "DIR", description = "write modules under DIR, mirroring each directory given")
    Path out;

    /** @return the output directory, or empty for in place */
    Optional<Path> outDir() {
        return Optional.ofNullable(out);
    }
}
