package org.lkmpre.preresolve;

import java.util.Arrays;
import org.lkmpre.kernel.KernelSymbols;

/**
 * Something that preresolves modules against one kernel: the pure-Java {@link Preresolver}, or
 * a binding to the C core (FFM, JNA). Every backend gives the same outcome for the same input,
 * byte for byte; {@code lkmpre conform} checks that. Implementations are thread-safe; close
 * a backend (try-with-resources) when done with it.
 */
public interface Backend extends AutoCloseable {
    /** @return the backend's name: "java", "ffm" or "jna" */
    String name();

    /** @return the kernel this backend resolves against */
    KernelSymbols kernel();

    /**
     * Preresolves one module. Never throws for bad module input: a malformed module yields a
     * {@link ModuleStatus#FAILED} report.
     *
     * @param path how to name the module in the report
     * @param data the module's bytes; not modified
     * @return the outcome: {@link Outcome.Preresolved} with the patch, or why there is none
     */
    Outcome preresolve(String path, byte[] data);

    /**
     * Preresolves the module held in the first {@code length} bytes of {@code buffer}, for callers
     * that read every module into one buffer they reuse ({@link ModuleTree}). The outcome holds
     * no reference to {@code buffer}. The native bindings read the module where it is; this
     * default copies it.
     *
     * @param path   how to name the module in the report
     * @param buffer holds the module's bytes; not modified
     * @param length the module's length
     * @return the outcome, as {@link #preresolve(String, byte[])} gives it
     */
    default Outcome preresolve(String path, byte[] buffer, int length) {
        return preresolve(path, length == buffer.length ? buffer : Arrays.copyOf(buffer, length));
    }

    /**
     * Frees what the backend holds outside the Java heap (the FFM binding's copy of the index);
     * the backend is not used afterwards. The Java reference and the JNA binding hold nothing to
     * free early: for them this does nothing.
     */
    @Override
    default void close() {
    }
}
