package org.lkmpre.cli;

import java.io.PrintWriter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.lkmpre.OneLine;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code lkmpre} command: a thin layer over the Java API.
 *
 * <p>Exit status: 0 all done; 1 some module refused or failed; 2 usage error or unusable kernel
 * input.
 */
@Command(name = "lkmpre", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Preresolve Linux kernel module symbols against vmlinux at build time.")
public final class Main {
    /**
     * The subcommands, in the order the usage lists them. A run registers only the one it names
     * (picocli reads each command's annotations when it is registered, about 30 ms for all).
     */
    private static final Map<String, Supplier<Object>> COMMANDS = commands();
    /** Exit status when a module was refused or failed. */
    static final int EXIT_MODULE_FAILED = 1;
    /** Exit status for a usage error or unusable kernel input. */
    static final int EXIT_USAGE = 2;

    private Main() {
    }

    /**
     * Runs the command line.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, false), new PrintWriter(System.err, true)));
    }

    /**
     * Runs the command line with the given output streams and returns the exit status.
     *
     * @param args the arguments
     * @param out  standard output
     * @param err  standard error
     * @return the exit status
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Supplier<Object> named = args.length > 0 && !args[0].equals("help") ? COMMANDS.get(args[0]) : null;
        if (args.length > 0 && args[0].equals("preresolve")) {
            PreresolveCommand.linkEarly(args); // on the other core, while picocli builds the command line
        }
        CommandLine cl = new CommandLine(new Main());
        if (named != null) {
            cl.addSubcommand(named.get());
        } else {
            COMMANDS.values().forEach(c -> cl.addSubcommand(c.get()));
        }
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            out.flush();
            String message;
            if (e instanceof java.nio.file.FileSystemException fse) {
                message = fse.getFile() + ": " + (fse instanceof java.nio.file.NoSuchFileException ? "no such file"
                        : fse.getReason() == null ? fse.getClass().getSimpleName() : fse.getReason());
            } else if (e instanceof IllegalArgumentException || e instanceof java.io.IOException) {
                message = e.getMessage(); // InputFormatException is one
            } else {
                throw e;
            }
            err.println("lkmpre: error: " + OneLine.of(message));
            return EXIT_USAGE;
        });
        int status = cl.execute(args);
        out.flush();
        err.flush();
        return status;
    }

    private static Map<String, Supplier<Object>> commands() {
        Map<String, Supplier<Object>> c = new LinkedHashMap<>();
        c.put("preresolve", PreresolveCommand::new);
        c.put("unpreresolve", UnpreresolveCommand::new);
        c.put("symbols", SymbolsCommand::new);
        c.put("index", IndexCommand::new);
        c.put("conform", ConformCommand::new);
        c.put("extract", ExtractCommand::new);
        c.put("simulate", SimulateCommand::new);
        c.put("measure", MeasureCommand::new);
        c.put("help", CommandLine.HelpCommand::new);
        c.put("generate-completion", AutoComplete.GenerateCompletion::new);
        return Collections.unmodifiableMap(c);
    }

    /** Reports the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"lkmpre " + (v == null ? "development build" : v)};
        }
    }
}
