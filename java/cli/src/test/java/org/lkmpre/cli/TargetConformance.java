package org.lkmpre.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.lkmpre.index.KernelIndex;
import org.lkmpre.kernel.KernelSource;
import org.lkmpre.module.ModuleCompression;
import org.lkmpre.preresolve.ModuleTree;
import org.lkmpre.preresolve.Outcome;
import org.lkmpre.preresolve.PreresolveOptions;
import org.lkmpre.preresolve.Preresolver;

/**
 * The C core built for the cross targets, run on every module and compared with the Java
 * reference as {@code lkmpre conform} compares the host's backends (same difference lines). A
 * test and tool helper: the drivers and make fragments live in the source tree, so this is not
 * on the shipped CLI's path.
 */
final class TargetConformance {
    private TargetConformance() {
    }

    /**
     * @return the targets whose drivers the build made: {@code lkmpre.toolchains} (toolchains/)
     *         and {@code lkmpre.native.build} (native/build), system properties the build sets
     */
    static List<TargetDriver> built() throws IOException {
        return TargetDriver.available(Path.of(System.getProperty("lkmpre.toolchains")),
                Path.of(System.getProperty("lkmpre.native.build")));
    }

    /** @return the built target called {@code name} */
    static TargetDriver built(String name) throws IOException {
        return built().stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no target driver for " + name
                        + " (build it: make -C native target T=" + name + ")"));
    }

    /**
     * Runs each target's driver on every module under {@code paths} and compares it with the
     * reference.
     *
     * @param kernel  vmlinux or a compressed image
     * @param options as for {@code lkmpre conform}
     * @param targets the drivers
     * @param paths   modules and directories
     * @return a {@code DIFFER} line per difference, then
     *         {@code N modules, targets T (EMULATOR), ...: all identical} (or {@code K differences})
     */
    static List<String> run(Path kernel, PreresolveOptions options, List<TargetDriver> targets, List<Path> paths)
            throws IOException, InterruptedException {
        Preresolver reference = Preresolver.create(KernelSource.detect(kernel).read(Optional.empty()), options);
        List<ModuleTree.Target> modules = ModuleTree.collect(paths, Optional.empty()).targets();
        List<String> out = new ArrayList<>();
        for (TargetDriver target : targets) {
            conform(target, reference, modules, out);
        }
        long differ = out.size();
        out.add(modules.size() + " modules, targets " + String.join(", ", targets.stream()
                .map(t -> t.name() + " (" + (t.emulator().isEmpty() ? "native" : t.emulator()) + ")").toList())
                + ": " + (differ == 0 ? "all identical" : differ + " differences"));
        return out;
    }

    /** Runs one target's driver on every module; adds a line per difference to {@code out}. */
    private static void conform(TargetDriver target, Preresolver reference, List<ModuleTree.Target> modules,
                                List<String> out) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("lkmpre-conform-" + target.name());
        try {
            Path index = work.resolve("kernel.lkmidx");
            Files.write(index, KernelIndex.write(reference.kernel()));
            // The drivers read plain ELF: compressed modules are given to them decompressed.
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < modules.size(); i++) {
                Path source = modules.get(i).source();
                if (ModuleCompression.isModuleName(source.toString()) && !source.toString().endsWith(".ko")) {
                    Path plainCopy = work.resolve("plain-" + i + ".ko");
                    Files.write(plainCopy, modules.get(i).readPlain());
                    source = plainCopy;
                }
                files.add(source);
            }
            List<Outcome> got = target.preresolve(reference, index, modules.stream().map(ModuleTree.Target::name).toList(),
                    files, work);
            for (int i = 0; i < modules.size(); i++) {
                byte[] data = modules.get(i).readPlain();
                Outcome ref = reference.preresolve(modules.get(i).name(), data);
                ConformCommand.differ(modules.get(i).name(), target.name(), ref, ConformCommand.output(ref, data), got.get(i),
                        data).ifPresent(out::add);
            }
        } finally {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
