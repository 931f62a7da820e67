package org.lkmpre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/cli.md quotes every command's {@code --help} between {@code <!-- help: CMD -->} markers;
 * the quotes must be what the commands print. {@code -Dlkmpre.updateDocs=true} rewrites them.
 */
class CliDocsTest {
    private static final List<String> COMMANDS = List.of("", "preresolve", "unpreresolve", "symbols", "index", "conform",
            "extract", "simulate", "measure", "generate-completion");
    private static final Pattern QUOTE = Pattern.compile("<!-- help: ([a-z-]*) -->\n```\n(.*?)```\n", Pattern.DOTALL);

    @Test
    void docsQuoteTheHelpOfEveryCommand() throws Exception {
        Path doc = Path.of(System.getProperty("lkmpre.toolchains")).getParent().resolve("docs/cli.md");
        String text = Files.readString(doc);
        Matcher m = QUOTE.matcher(text);
        StringBuilder updated = new StringBuilder();
        List<String> quoted = new java.util.ArrayList<>();
        while (m.find()) {
            String cmd = m.group(1);
            quoted.add(cmd);
            String help = help(cmd);
            m.appendReplacement(updated, Matcher.quoteReplacement("<!-- help: " + cmd + " -->\n```\n" + help + "```\n"));
        }
        m.appendTail(updated);
        if (Boolean.getBoolean("lkmpre.updateDocs")) {
            Files.writeString(doc, updated.toString());
        }
        assertEquals(COMMANDS, quoted, "docs/cli.md quotes these commands' help, in this order");
        assertEquals(updated.toString(), text, "docs/cli.md is out of date: mvn test -Dtest=CliDocsTest -Dlkmpre.updateDocs=true");
    }

    private static String help(String cmd) {
        CliRun r = cmd.isEmpty() ? CliRun.of("--help") : CliRun.of(cmd, "--help");
        assertEquals(0, r.status(), cmd);
        return r.out();
    }
}
