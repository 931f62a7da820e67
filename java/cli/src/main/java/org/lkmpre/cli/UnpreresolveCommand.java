package org.lkmpre.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfPatch;
import org.lkmpre.module.ModuleCompression;
import org.lkmpre.preresolve.ModuleLock;
import org.lkmpre.preresolve.ModuleTree;
import org.lkmpre.preresolve.Unpreresolver;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lkmpre unpreresolve}: give preresolved modules their original bytes back. */
@Command(name = "unpreresolve", mixinStandardHelpOptions = true,
        description = {"Restore modules preresolved by lkmpre to their original bytes (an appended signature aside),",
            "from the .lkmpre.undo record. Prints RESTORED, SKIPPED (not preresolved by lkmpre) or FAILED per module.",
            "Exit status: 0 all done; 1 some module failed; 2 usage error."})
final class UnpreresolveCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true)
    DestinationOptions destination = new DestinationOptions();

    @Option(names = "--dry-run", description = "report; write nothing")
    boolean dryRun;

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "modules and directories to walk")
    List<Path> paths;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int restored = 0;
        int skipped = 0;
        int failed = 0;
        for (ModuleTree.Target t : ModuleTree.collect(paths, destination.outDir()).targets()) {
            // In place, the module is locked as preresolve locks it (ModuleLock): a run still
            // patching it finishes first, and a second restore finds nothing to do.
            boolean inPlace = !dryRun && t.destination().equals(t.source());
            try (ModuleLock lock = inPlace ? ModuleLock.acquire(t.source()) : null) {
                byte[] data = lock != null ? lock.read() : Files.readAllBytes(t.source());
                ModuleCompression compression = ModuleCompression.detect(t.name(), data);
                byte[] plain = compression.decompress(t.name(), data);
                Optional<ElfPatch> patch = Unpreresolver.restore(t.name(), plain);
                if (patch.isEmpty()) {
                    out.println("SKIPPED " + t.name() + " (not preresolved by lkmpre)");
                    skipped++;
                    continue;
                }
                if (!dryRun) {
                    ModuleTree.writeModule(t, plain, patch.get(), compression, Optional.empty());
                }
                out.println("RESTORED " + t.name());
                restored++;
            } catch (InputFormatException e) {
                out.println("FAILED  " + t.name() + " (" + e.reason() + ")");
                failed++;
            } catch (IOException e) {
                out.println("FAILED  " + t.name() + " (" + e.getMessage() + ")");
                failed++;
            }
        }
        out.println("lkmpre: " + (restored + skipped + failed) + " modules: " + restored + " restored, " + skipped
                + " not preresolved, " + failed + " failed");
        return failed > 0 ? Main.EXIT_MODULE_FAILED : 0;
    }
}
