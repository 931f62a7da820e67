package org.lkmpre.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.lkmpre.preresolve.ModuleReport;

/**
 * A backend that runs the C core's whole-file run ({@code lkmpre_files_preresolve},
 * {@code include/lkmpre_files.h}): plain module files read, preresolved and patched where they
 * lie by the core's own threads, with the in-place protocol and locks of lkmpre-tree. One call
 * does many files: the JVM only words the results. {@code ModuleTree} uses it where it writes a
 * plain module in place (or writes nothing), without signing or renaming.
 */
public interface NativeFiles {
    /**
     * Preresolves module files, patching each where it lies when {@code write}.
     *
     * @param files   the files, each a plain module (ELF, perhaps signed) by its name
     * @param names   each file's name in its report
     * @param write   patch the files (else decide only)
     * @param threads how many files the core works on at once (at least 1)
     * @return per file, its report; empty where the per-module path must do the file again
     *         (it failed: to read, to write, or as a malformed module), so that every report
     *         has the reference's words; a module another run held for the whole wait is
     *         reported failed here (not waited for twice)
     */
    List<Optional<ModuleReport>> preresolveFiles(List<Path> files, List<String> names, boolean write, int threads);
}
