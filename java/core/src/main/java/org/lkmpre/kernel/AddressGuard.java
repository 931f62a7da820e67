package org.lkmpre.kernel;

import java.util.ArrayList;
import java.util.List;
import org.lkmpre.InputFormatException;
import org.lkmpre.elf.ElfFile;
import org.lkmpre.elf.Section;

/**
 * lkmpre's own check on every address it would write: an export's address must lie inside an
 * allocated section of the vmlinux it came from, or for a System.map inside the kernel's image
 * ({@code _text} to {@code _end}) or its per-CPU area (per-CPU exports: inside the per-CPU section,
 * which x86_64 SMP links at 0, so its offsets pass as they are), and never inside the export
 * tables themselves, where a zeroed PREL32 entry would point. Address 0 passes for one export at
 * most: a per-CPU section linked at 0 (x86_64 SMP) holds one variable there, but a relocation
 * left unapplied or a zeroed entry leaves many exports at 0. An export that fails is kept, marked
 * {@link ExportedSymbol#outsideKernel()}, and never written into a module; when more than
 * {@link #MAX_OUTSIDE} fail, the file does not hold the addresses the kernel uses (a relocation
 * rule lkmpre does not know, a damaged image) and the kernel is refused.
 */
final class AddressGuard {
    /** More failures than this refuse the kernel: a handful can be odd exports, more cannot. */
    static final int MAX_OUTSIDE = 8;

    private AddressGuard() {
    }

    /** Addresses {@code [start, start + size)}, unsigned. */
    record Range(long start, long size) {
        boolean contains(long address) {
            return Long.compareUnsigned(address - start, size) < 0;
        }
    }

    /**
     * @return the exports, those whose address lies outside vmlinux's allocated sections (or
     *         inside its export tables) marked
     * @throws InputFormatException if more than {@link #MAX_OUTSIDE} fail
     */
    static List<ExportedSymbol> check(ElfFile elf, List<ExportedSymbol> exports) {
        return check(elf.file(), "every allocated section", elf.sections().stream()
                .filter(s -> (s.flags() & Section.SHF_ALLOC) != 0 && s.size() != 0 && !isExportTable(s.name()))
                .map(s -> new Range(s.addr(), s.size())).toList(), exports);
    }

    /**
     * @param where what {@code kernel} is, for the message
     * @return the exports, those whose address lies in none of {@code kernel} marked
     * @throws InputFormatException if more than {@link #MAX_OUTSIDE} fail
     */
    static List<ExportedSymbol> check(String file, String where, List<Range> kernel, List<ExportedSymbol> exports) {
        boolean zeroShared = exports.stream().filter(x -> x.address() == 0).limit(2).count() > 1;
        List<ExportedSymbol> out = new ArrayList<>(exports.size());
        int outside = 0;
        ExportedSymbol first = null;
        for (ExportedSymbol x : exports) {
            if (kernel.stream().anyMatch(r -> r.contains(x.address())) && !(zeroShared && x.address() == 0)) {
                out.add(x);
                continue;
            }
            outside++;
            first = first == null ? x : first;
            out.add(new ExportedSymbol(x.name(), x.address(), x.crc(), x.kind(), x.namespace(), true));
        }
        if (outside > MAX_OUTSIDE) {
            throw new InputFormatException(file, outside + " of " + exports.size()
                    + " exports have addresses outside " + where + " (first: " + first.name() + " at 0x"
                    + Long.toHexString(first.address()) + "): this file does not hold the addresses the kernel uses");
        }
        return out;
    }

    private static boolean isExportTable(String name) {
        return name.startsWith("__ksymtab") || name.startsWith("__kcrctab");
    }
}
