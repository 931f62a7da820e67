package org.lkmpre.kernel;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The export table of one kernel build: every symbol vmlinux exports to modules, in table order
 * ({@code __ksymtab} first, then {@code __ksymtab_gpl}), with what identifies the build. Immutable
 * and safe to share between threads.
 */
public final class KernelSymbols {
    private final String origin;
    private final Exports exports;
    private final Map<String, String> moduleExports;
    private final KernelIdentity identity;
    private final Optional<KernelConfig> config;
    private final int wordSize;
    private final int machine;
    private final Map<String, Long> exportSections;
    private final Optional<byte[]> index;

    /**
     * The exports and what is derived from them, made when first asked for: a table read from an
     * index that only the C core uses never needs them (making them took about 17 ms of a run).
     * Shared by the copies {@code with...} makes; made once, then read without a lock.
     */
    private static final class Exports {
        /** The exports, by name (the first entry of a name: the kernel searches __ksymtab first), and whether any has a CRC. */
        private record Made(List<ExportedSymbol> list, Map<String, ExportedSymbol> byName, boolean hasCrcs) {
        }

        private final Supplier<List<ExportedSymbol>> source;
        private volatile Made made;

        Exports(Supplier<List<ExportedSymbol>> source) {
            this.source = source;
        }

        Made made() {
            Made m = made;
            if (m == null) {
                synchronized (this) {
                    m = made;
                    if (m == null) {
                        List<ExportedSymbol> list = List.copyOf(source.get());
                        Map<String, ExportedSymbol> byName = new HashMap<>(list.size() * 2);
                        for (ExportedSymbol e : list) {
                            byName.putIfAbsent(e.name(), e);
                        }
                        m = new Made(list, Collections.unmodifiableMap(byName), list.stream().anyMatch(e -> e.crc().isPresent()));
                        made = m;
                    }
                }
            }
            return m;
        }
    }

    private KernelSymbols(String origin, Exports exports, Map<String, String> moduleExports,
                          KernelIdentity identity, Optional<KernelConfig> config, int wordSize, int machine,
                          Map<String, Long> exportSections, Optional<byte[]> index) {
        this.origin = Objects.requireNonNull(origin);
        this.exports = exports;
        this.moduleExports = Map.copyOf(moduleExports);
        this.identity = Objects.requireNonNull(identity);
        this.config = Objects.requireNonNull(config);
        if (wordSize != 4 && wordSize != 8) {
            throw new IllegalArgumentException("word size " + wordSize);
        }
        this.wordSize = wordSize;
        this.machine = machine;
        this.exportSections = Collections.unmodifiableMap(new java.util.LinkedHashMap<>(exportSections));
        this.index = index;
    }

    /** A copy of {@code t} with another configuration, sections or index: the exports and what is derived from them are shared. */
    private KernelSymbols(KernelSymbols t, Optional<KernelConfig> config, Map<String, Long> exportSections,
                          Optional<byte[]> index) {
        this.origin = t.origin;
        this.exports = t.exports;
        this.moduleExports = t.moduleExports;
        this.identity = t.identity;
        this.config = Objects.requireNonNull(config);
        this.wordSize = t.wordSize;
        this.machine = t.machine;
        this.exportSections = Collections.unmodifiableMap(new java.util.LinkedHashMap<>(exportSections));
        this.index = index;
    }

    /**
     * Creates an export table.
     *
     * @param origin        what the table was read from, for messages
     * @param exports       the exports, {@code __ksymtab} entries before {@code __ksymtab_gpl}
     * @param moduleExports symbols that modules (not vmlinux) export, with the exporting module,
     *                      when the source knows them (Module.symvers); may be empty
     * @param identity      what identifies the build
     * @param config        the kernel configuration, if known
     * @param wordSize      4 for a 32-bit kernel, 8 for a 64-bit kernel
     * @param machine       the ELF {@code e_machine} of the kernel, 0 if unknown
     * @return the table
     */
    public static KernelSymbols of(String origin, List<ExportedSymbol> exports, Map<String, String> moduleExports,
                                   KernelIdentity identity, Optional<KernelConfig> config, int wordSize, int machine) {
        List<ExportedSymbol> copy = List.copyOf(exports);
        Exports table = new Exports(() -> copy);
        table.made(); // made now: a table of a source other than an index is read whole anyway
        return new KernelSymbols(origin, table, moduleExports, identity, config, wordSize, machine,
                Map.of(), Optional.empty());
    }

    /**
     * Creates the export table an export index holds (docs/index-format.md), carrying that index
     * for the C core. The exports are made by {@code exports} when first asked for, once.
     *
     * @param origin   what the index was read from, for messages
     * @param index    the index, checked by its reader
     * @param exports  makes the exports from the index, in its entry order; must not fail
     * @param identity what identifies the build
     * @param config   the configuration the index records, if any
     * @param wordSize 4 for a 32-bit kernel, 8 for a 64-bit kernel
     * @param machine  the ELF {@code e_machine} of the kernel, 0 if unknown
     * @return the table
     */
    public static KernelSymbols ofIndex(String origin, byte[] index, Supplier<List<ExportedSymbol>> exports,
                                        KernelIdentity identity, Optional<KernelConfig> config, int wordSize, int machine) {
        return new KernelSymbols(origin, new Exports(Objects.requireNonNull(exports)), Map.of(), identity, config, wordSize,
                machine, Map.of(), Optional.of(index.clone()));
    }

    /** @return the same table with {@code config} as its configuration */
    public KernelSymbols withConfig(KernelConfig config) {
        return new KernelSymbols(this, Optional.of(config), exportSections, index);
    }

    /**
     * @param index the export index (docs/index-format.md) this table was read from
     * @return the same table, carrying that index for the C core, which then need not be given one
     *         written again from the table (the configuration's KASLR flag aside, which the core
     *         does not read when preresolving, the two answer every lookup the same)
     */
    public KernelSymbols withIndex(byte[] index) {
        return new KernelSymbols(this, config, exportSections, Optional.of(index.clone()));
    }

    /** @return the export index this table was read from, if it was read from one (a copy) */
    public Optional<byte[]> index() {
        return index.map(byte[]::clone);
    }

    /**
     * @param sections bytes of each export-table section of the image ({@code __ksymtab*},
     *                 {@code __kcrctab*}), in section order
     * @return the same table, knowing what its sections occupy in the image
     */
    public KernelSymbols withExportSections(Map<String, Long> sections) {
        return new KernelSymbols(this, config, sections, index);
    }

    /**
     * @return bytes of each export-table section of the kernel image, in section order; empty when
     *         the table was not read from an image (Module.symvers, an index)
     */
    public Map<String, Long> exportSections() {
        return exportSections;
    }

    /** @return what the table was read from */
    public String origin() {
        return origin;
    }

    /** @return every export, in table order */
    public List<ExportedSymbol> exports() {
        return exports.made().list();
    }

    /** @return the export called {@code name}, as the kernel's loader would find it */
    public Optional<ExportedSymbol> find(String name) {
        return Optional.ofNullable(exports.made().byName().get(name));
    }

    /** @return the module that exports {@code name}, when the source lists module exports */
    public Optional<String> exportingModule(String name) {
        return Optional.ofNullable(moduleExports.get(name));
    }

    /** @return what identifies the kernel build */
    public KernelIdentity identity() {
        return identity;
    }

    /** @return the kernel configuration, if one was found or given */
    public Optional<KernelConfig> config() {
        return config;
    }

    /** @return 4 or 8: the width of an address (and of {@code unsigned long}) in this kernel */
    public int wordSize() {
        return wordSize;
    }

    /** @return the kernel's ELF machine, or 0 when the source does not say */
    public int machine() {
        return machine;
    }

    /** @return true if the kernel carries modversions CRCs for its exports */
    public boolean hasCrcs() {
        return exports.made().hasCrcs();
    }
}
