package org.lkmpre.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.lkmpre.kernel.ExportedSymbol;
import org.lkmpre.kernel.KernelSymbols;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code lkmpre symbols}: the kernel's export table, one export per line. */
@Command(name = "symbols", mixinStandardHelpOptions = true,
        description = {"List the symbols the kernel exports to modules, in table order (__ksymtab, then __ksymtab_gpl).",
            "Columns (tab-separated): name, address, CRC (- if none), kind, namespace (- if none)."})
final class SymbolsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    KernelOptions kernelOptions;

    @Override
    public Integer call() throws Exception {
        KernelSymbols kernel = kernelOptions.read();
        PrintWriter out = spec.commandLine().getOut();
        String addressFormat = "%0" + (kernel.wordSize() * 2) + "x";
        StringBuilder line = new StringBuilder();
        for (ExportedSymbol e : kernel.exports()) {
            line.setLength(0);
            line.append(e.name()).append('\t')
                    .append(String.format(addressFormat, e.address())).append('\t')
                    .append(e.crc().isPresent() ? String.format("0x%08x", e.crc().getAsLong()) : "-").append('\t')
                    .append(e.kind()).append('\t')
                    .append(e.namespace().isEmpty() ? "-" : e.namespace());
            out.println(line);
        }
        return 0;
    }
}
