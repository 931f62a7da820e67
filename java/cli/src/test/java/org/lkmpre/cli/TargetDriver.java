package org.lkmpre.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.lkmpre.elf.ElfPatch;
import org.lkmpre.internal.NativeLibrary;
import org.lkmpre.internal.NativeResult;
import org.lkmpre.internal.ReportBuilder;
import org.lkmpre.preresolve.ModuleStatus;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.Preresolver;

/**
 * The C core built for one cross target (toolchains/NAME.mk) and run under its emulator:
 * {@code native/build/NAME/lkmpre-target}, fed batches of modules, its printed results read
 * back into the same {@link Outcome}s the reference produces (the codes mapped by
 * {@link NativeResult}, the text written by {@link ReportBuilder}, as for the host bindings).
 * A test helper: the shipped CLI runs only the host's backends.
 *
 * @param name     the target ("sh4", "arm", "x86_64")
 * @param driver   the target's driver binary
 * @param emulator the qemu-user binary to run it with, "" to run it directly
 */
record TargetDriver(String name, Path driver, String emulator) {
    /** Modules per emulator run: amortizes qemu's start-up, keeps the command line short. */
    private static final int BATCH = 100;

    /**
     * The targets whose drivers are built: toolchains/*.mk beside native/build/NAME/lkmpre-target.
     *
     * @param toolchains the toolchains/ directory
     * @param build      native/build
     * @return the targets, by name
     */
    static List<TargetDriver> available(Path toolchains, Path build) throws IOException {
        List<TargetDriver> out = new ArrayList<>();
        if (!Files.isDirectory(toolchains)) {
            return out;
        }
        try (Stream<Path> s = Files.list(toolchains)) {
            for (Path mk : s.filter(p -> p.toString().endsWith(".mk")).sorted(Comparator.naturalOrder()).toList()) {
                String name = mk.getFileName().toString().replace(".mk", "");
                Path driver = build.resolve(name).resolve("lkmpre-target");
                String emulator = Files.readAllLines(mk).stream().filter(l -> l.startsWith("TARGET_EMULATOR"))
                        .map(l -> l.substring(l.indexOf('=') + 1).trim()).findFirst().orElse("");
                if (Files.isExecutable(driver)) {
                    out.add(new TargetDriver(name, driver, emulator));
                }
            }
        }
        return out;
    }

    private List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        if (!emulator.isEmpty()) {
            cmd.add(emulator);
        }
        cmd.add(driver.toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs the driver; returns standard output, or fails with its standard error. */
    String run(List<String> args, Path work) throws IOException, InterruptedException {
        List<String> cmd = command(args.toArray(String[]::new));
        Path err = work.resolve("stderr");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(name + ": driver timed out");
        }
        if (p.exitValue() != 0) {
            throw new IOException(name + ": driver exited " + p.exitValue() + ": " + Files.readString(err).strip());
        }
        return out;
    }

    /**
     * Preresolves modules with this target's driver.
     *
     * @param reference the Java reference, whose kernel and options are used
     * @param index     the kernel's index file
     * @param names     how to name each module
     * @param modules   the module files
     * @param work      a scratch directory
     * @return one outcome per module
     */
    List<Outcome> preresolve(Preresolver reference, Path index, List<String> names, List<Path> modules, Path work)
            throws IOException, InterruptedException {
        List<Outcome> out = new ArrayList<>();
        ReportBuilder reports = new ReportBuilder(reference.kernel());
        String flags = String.valueOf(NativeLibrary.flags(reference.options()));
        for (int start = 0; start < modules.size(); start += BATCH) {
            List<Path> batch = modules.subList(start, Math.min(modules.size(), start + BATCH));
            Path dir = Files.createTempDirectory(work, name);
            List<String> args = new ArrayList<>(List.of("preresolve", index.toString(), dir.toString(), flags));
            batch.forEach(m -> args.add(m.toString()));
            List<String> lines = run(args, work).lines().toList();
            int at = 0;
            for (int i = 0; i < batch.size(); i++) {
                String[] m = lines.get(at++).split(" ");
                if (!m[0].equals("MODULE") || Integer.parseInt(m[1]) != i) {
                    throw new IOException(name + ": unexpected driver output: " + String.join(" ", m));
                }
                ModuleStatus status = NativeResult.status(Integer.parseInt(m[2]));
                String message = "";
                List<NativeResult.Symbol> left = new ArrayList<>();
                while (at < lines.size() && !lines.get(at).startsWith("MODULE")) {
                    String line = lines.get(at++);
                    if (line.startsWith("ERR ")) {
                        message = line.substring(4);
                    } else {
                        String[] s = line.split(" ");
                        left.add(new NativeResult.Symbol(Integer.parseInt(s[1]), NativeResult.reason(Integer.parseInt(s[2])),
                                Long.parseUnsignedLong(s[3], 16)));
                    }
                }
                Optional<ElfPatch> patch = status == ModuleStatus.PRERESOLVED
                        ? Optional.of(new ElfPatch(0, List.of(), Files.readAllBytes(dir.resolve(i + ".ko")))) : Optional.empty();
                NativeResult r = new NativeResult(status, NativeResult.refusal(Integer.parseInt(m[3])),
                        Integer.parseInt(m[4]), Integer.parseInt(m[5]), Integer.parseInt(m[7]), Integer.parseInt(m[8]),
                        Integer.parseInt(m[9]), left, patch, message);
                byte[] module = Files.readAllBytes(batch.get(i));
                out.add(reports.fromNative(reference, names.get(start + i), module, module.length, r));
            }
        }
        return out;
    }
}
