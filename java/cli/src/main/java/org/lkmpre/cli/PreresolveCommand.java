package org.lkmpre.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.lkmpre.kernel.KernelSymbols;
import org.lkmpre.module.ModuleSigner;
import org.lkmpre.preresolve.Backend;
import org.lkmpre.preresolve.Backends;
import org.lkmpre.preresolve.ModuleTree;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.preresolve.Preresolver;
import org.lkmpre.preresolve.Report;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lkmpre preresolve}: patch modules' undefined vmlinux symbols to absolute addresses. */
@Command(name = "preresolve", mixinStandardHelpOptions = true,
        description = {"Resolve modules' undefined symbols against vmlinux's exports and write them as SHN_ABS.",
            "Prints one line per module (PRERESV, SKIPPED, REFUSED, FAILED), then a summary.",
            "Exit status: 0 all done; 1 some module refused or failed; 2 usage error or unusable kernel input."})
final class PreresolveCommand implements Callable<Integer> {
    /** Modules between two progress lines on standard error. */
    private static final int PROGRESS_EVERY = 500;

    @Spec
    CommandSpec spec;

    @Mixin
    KernelOptions kernelOptions;

    @ArgGroup(exclusive = true)
    DestinationOptions destination = new DestinationOptions();

    @Option(names = "--rename", description = {"in place, write a new copy of each module and rename it over the old one: a"
            + " reader sees the old module or the new one, never a state between (for trees read while they are patched);"
            + " the default patches each plain .ko where it lies, only the bytes that change, in an order that keeps it a"
            + " loadable module at every step (a killed run leaves such a module; the next run finishes it)"})
    boolean rename;

    @Option(names = "--patch-in-place", hidden = true, description = "the default in-place mode (kept for scripts that name it)")
    boolean patchInPlace;

    @Option(names = "--dry-run", description = "report what would be done; write nothing")
    boolean dryRun;

    @Option(names = "--json", paramLabel = "FILE", description = "also write a machine-readable report to FILE")
    Path json;

    @Option(names = "--strip-signature", description = "remove appended module signatures (the modules then load unsigned)")
    boolean stripSignature;

    @Option(names = "--sign-key", paramLabel = "KEY", description = "re-sign patched modules with this private key (PEM), as scripts/sign-file does")
    Path signKey;

    @Option(names = "--sign-cert", paramLabel = "CERT", description = "the X.509 certificate (PEM or DER) of --sign-key")
    Path signCert;

    @Option(names = "--hash", paramLabel = "ALGO", defaultValue = "sha256", description = "signature digest (default: sha256)")
    String hash;

    @Option(names = "--assume-nokaslr", description = "accept a kernel built with CONFIG_RANDOMIZE_BASE=y: it will boot with nokaslr")
    boolean assumeNoKaslr;

    @Option(names = {"-j", "--jobs"}, paramLabel = "N", description = "modules processed at once (default: the number of CPUs)")
    int jobs = Runtime.getRuntime().availableProcessors();

    @Option(names = {"-q", "--quiet"}, description = "no progress on standard error")
    boolean quiet;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "auto (FFM, else JNA, else Java), java, ffm or jna; output is the same with each")
    String backend;

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "modules (.ko) and directories to walk")
    List<Path> paths;

    /** @return the walked tree, or what the walk threw */
    private static ModuleTree collected(CompletableFuture<ModuleTree> walk) throws IOException {
        try {
            return walk.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException io) {
                throw io.getCause();
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /** Runs a start-up task on a daemon thread of its own. */
    private static final Executor START = task -> {
        Thread t = new Thread(task, "lkmpre-start");
        t.setDaemon(true);
        t.start();
    };

    /**
     * Starts linking the automatic backend (the C core through FFM or JNA: tens of milliseconds),
     * for {@link Main} to call before picocli builds the command line (as long again) on the other
     * core, unless the arguments name a backend: {@link #call} links that one.
     *
     * @param args the command line
     */
    static void linkEarly(String[] args) {
        if (Arrays.stream(args).noneMatch(a -> a.startsWith("--backend"))) {
            START.execute(() -> Backends.prepare("auto"));
        }
    }

    @Override
    public Integer call() throws Exception {
        // The tree is walked and the backend linked, each on a thread of its own, while the
        // kernel is read: the run's start-up, on both cores. Opening the backend later waits
        // for its link if that is still under way.
        CompletableFuture.runAsync(() -> Backends.prepare(backend), START);
        CompletableFuture<ModuleTree> walk = CompletableFuture.supplyAsync(() -> {
            try {
                return ModuleTree.collect(paths, destination.outDir(), backend);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, START);
        KernelSymbols kernel = kernelOptions.readCached();
        Preresolver preresolver = Preresolver.create(kernel, new PreresolveOptions(stripSignature, assumeNoKaslr));
        ModuleTree tree = collected(walk);
        if ((signKey == null) != (signCert == null)) {
            throw new ParameterException(spec.commandLine(), "--sign-key and --sign-cert go together");
        }
        if (signKey != null) {
            tree = tree.signWith(ModuleSigner.load(signKey, signCert, hash));
        }
        if ((patchInPlace || rename) && destination.outDir().isPresent()) {
            throw new ParameterException(spec.commandLine(), (rename ? "--rename" : "--patch-in-place")
                    + " writes where the modules are: not with --out");
        }
        if (patchInPlace && rename) {
            throw new ParameterException(spec.commandLine(), "--patch-in-place and --rename are two ways to write in place: choose one");
        }
        if (rename) {
            tree = tree.renamingInPlace();
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int total = tree.targets().size();
        AtomicInteger done = new AtomicInteger();
        Report report;
        try (Backend chosen = Backends.open(backend, preresolver)) {
            report = tree.run(chosen, dryRun, jobs, r -> {
                out.println(r.line());
                int n = done.incrementAndGet();
                if (!quiet && n % PROGRESS_EVERY == 0 && n < total) {
                    out.flush();
                    err.println("lkmpre: " + n + "/" + total + " modules");
                }
            });
        }
        out.println(report.summary());
        out.flush();
        if (json != null) {
            JsonReport.write(report, json);
        }
        return report.hasFailures() ? Main.EXIT_MODULE_FAILED : 0;
    }
}
