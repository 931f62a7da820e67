package org.lkmpre;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lkmpre.preresolve.ModuleReport;
import org.lkmpre.preresolve.ModuleStatus;

/** Names read from a hostile file cannot split a one-line message or drive the terminal (found by Jazzer). */
class OneLineTest {
    @Test
    void controlCharactersAreEscaped() {
        assertEquals("a\\x0ab \\x1b[31m \\x7f\\x85\\x09", OneLine.of("a\nb \u001b[31m \u007f\u0085\t"));
        assertEquals("ascii and Latin-1 \u00e9 stay", OneLine.of("ascii and Latin-1 \u00e9 stay"));
    }

    @Test
    void exceptionMessagesAreOneLine() {
        InputFormatException e = new InputFormatException("a\nb.ko", "section 0 (\n) lies outside the file");
        assertEquals("a\\x0ab.ko: section 0 (\\x0a) lies outside the file", e.getMessage());
        assertEquals("a\\x0ab.ko", e.file());
        assertEquals("section 0 (\\x0a) lies outside the file", e.reason());
    }

    @Test
    void reportLinesAreOneLine() {
        ModuleReport r = new ModuleReport("m.ko", ModuleStatus.REFUSED, 0, 0, List.of(),
                "module is built for kernel 6.\n1, not 6.1");
        assertEquals("REFUSED m.ko (module is built for kernel 6.\\x0a1, not 6.1)", r.line());
    }
}
