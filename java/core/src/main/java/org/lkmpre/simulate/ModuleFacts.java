package org.lkmpre.simulate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.ElfLayout;
import org.lkmpre.elf.Section;
import org.lkmpre.elf.Symbol;
import org.lkmpre.module.KernelModule;

/**
 * What the loader simulator needs to know of one module: its name, what it asks the kernel for,
 * what it exports (as the kernel's module loader sees {@code __ksymtab} and {@code __ksymtab_gpl}),
 * its {@code depends=}, and how much of it is init code and data.
 *
 * @param path       the module's path, relative to the tree
 * @param name       the module name ({@code name=} in .modinfo, else the file name), with
 *                   underscores for dashes as the kernel names modules
 * @param depends    the modules named by {@code depends=} (modpost writes file names there:
 *                   "camellia-x86_64"), dashes made underscores
 * @param undefined  names of its undefined symbols, in symbol-table order
 * @param exports    names it exports with {@code EXPORT_SYMBOL}, in symbol-table order
 * @param gplExports names it exports with {@code EXPORT_SYMBOL_GPL}
 * @param initBytes  bytes of its allocated {@code .init*} sections
 * @param initRefs   per non-init allocated section (such as {@code __ex_table}), how many
 *                   relocations point into an init section: what keeps init memory from being
 *                   freed safely
 */
public record ModuleFacts(String path, String name, List<String> depends, List<String> undefined, List<String> exports,
                          List<String> gplExports, long initBytes, Map<String, Integer> initRefs) {
    private static final int SHT_RELA = 4;
    private static final int SHT_REL = 9;
    private static final String KSYMTAB = "__ksymtab_";

    /** Copies the lists and the map. */
    public ModuleFacts {
        depends = List.copyOf(depends);
        undefined = List.copyOf(undefined);
        exports = List.copyOf(exports);
        gplExports = List.copyOf(gplExports);
        initRefs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(initRefs));
    }

    /**
     * Reads a module's facts.
     *
     * @param path  the module's path, relative to the tree
     * @param plain the module's bytes, decompressed
     * @return the facts
     * @throws InputFormatException if the module is malformed
     */
    public static ModuleFacts read(String path, byte[] plain) {
        KernelModule module = KernelModule.parse(path, plain);
        ElfFile elf = module.elf();
        Section symtab = elf.symbolTable().orElseThrow();
        List<Symbol> symbols = elf.symbols(symtab);
        List<String> undefined = new ArrayList<>();
        List<String> exports = new ArrayList<>();
        List<String> gpl = new ArrayList<>();
        List<Section> sections = elf.sections();
        for (Symbol s : symbols) {
            if (s.isUndefinedReference()) {
                undefined.add(s.name());
            } else if (s.name().startsWith(KSYMTAB) && s.shndx() > 0 && s.shndx() < sections.size()) {
                // EXPORT_SYMBOL(x) places a __ksymtab_x marker in __ksymtab (or __ksymtab_gpl).
                String table = sections.get(s.shndx()).name();
                String name = s.name().substring(KSYMTAB.length());
                if (table.equals("__ksymtab")) {
                    exports.add(name);
                } else if (table.equals("__ksymtab_gpl")) {
                    gpl.add(name);
                }
            }
        }
        long initBytes = 0;
        for (Section s : sections) {
            if (isInit(s)) {
                initBytes += s.size();
            }
        }
        Map<String, Integer> initRefs = new LinkedHashMap<>();
        for (Section rel : sections) {
            if ((rel.type() != SHT_RELA && rel.type() != SHT_REL) || rel.info() <= 0 || rel.info() >= sections.size()) {
                continue;
            }
            Section target = sections.get(rel.info());
            if ((target.flags() & Section.SHF_ALLOC) == 0 || isInit(target)) {
                continue;
            }
            int count = initReferences(elf, rel, symbols, sections);
            if (count > 0) {
                initRefs.merge(target.name(), count, Integer::sum);
            }
        }
        String name = module.modinfo().first("name").orElseGet(() -> fileModuleName(path)).replace('-', '_');
        List<String> depends = module.modinfo().depends().stream().map(d -> d.replace('-', '_')).toList();
        return new ModuleFacts(path, name, depends, undefined, exports, gpl, initBytes, initRefs);
    }

    private static boolean isInit(Section s) {
        return (s.flags() & Section.SHF_ALLOC) != 0 && s.name().startsWith(".init");
    }

    /** Relocations in {@code rel} whose symbol lies in an init section. */
    private static int initReferences(ElfFile elf, Section rel, List<Symbol> symbols, List<Section> sections) {
        ElfLayout l = elf.layout();
        int entsize = rel.type() == SHT_RELA ? l.relaEntsize() : l.relEntsize();
        if (rel.size() % entsize != 0) {
            throw new InputFormatException(elf.file(), "relocation section " + rel.name() + " size " + rel.size()
                    + " is not a multiple of " + entsize);
        }
        int count = 0;
        for (long at = rel.offset(); at < rel.offset() + rel.size(); at += entsize) {
            int sym = l.relSymbol(elf.word(at + l.rInfo())); // negative past 2^31: no such symbol either
            if (sym <= 0 || sym >= symbols.size()) {
                continue;
            }
            int shndx = symbols.get(sym).shndx();
            if (shndx > 0 && shndx < sections.size() && isInit(sections.get(shndx))) {
                count++;
            }
        }
        return count;
    }

    /** The kernel's module name for a file: its base name without .ko*, dashes as underscores. */
    static String fileModuleName(String path) {
        String base = path.substring(path.lastIndexOf('/') + 1);
        int ko = base.indexOf(".ko");
        return (ko > 0 ? base.substring(0, ko) : base).replace('-', '_');
    }
}
