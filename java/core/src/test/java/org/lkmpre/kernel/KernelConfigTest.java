package org.lkmpre.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KernelConfigTest {
    /** The rule, spelled the plain way: each line stripped; a CONFIG_ line with an '=' sets its option. */
    private static Map<String, String> byTheRule(String text) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            line = line.strip();
            int eq = line.indexOf('=');
            if (line.startsWith("CONFIG_") && eq > 0) {
                options.put(line.substring("CONFIG_".length(), eq), line.substring(eq + 1));
            }
        }
        return options;
    }

    private static Map<String, String> parsed(String text) {
        return KernelConfig.parse("t", text.getBytes(StandardCharsets.UTF_8)).options();
    }

    @Test
    void setOptionsWithTheirValuesInOrder() {
        String text = "#\n# Automatically generated file\n#\nCONFIG_MODULES=y\n# CONFIG_RANDOMIZE_BASE is not set\n"
                + "CONFIG_LOCALVERSION=\"-amd64\"\nCONFIG_CMDLINE=\"a=b c\"\n\nCONFIG_NR_CPUS=8192";
        assertEquals(List.of("MODULES", "LOCALVERSION", "CMDLINE", "NR_CPUS"), List.copyOf(parsed(text).keySet()));
        assertEquals("\"a=b c\"", parsed(text).get("CMDLINE"));
        assertEquals("8192", parsed(text).get("NR_CPUS"));
        assertEquals(false, KernelConfig.parse("t", text.getBytes(StandardCharsets.UTF_8)).randomizesBase());
    }

    @Test
    void linesAreStrippedAndEndAtTheirNewline() {
        // CRLF, blanks around a line, a CONFIG_ line without '=' before one with it, a no-break space
        // (not white space to Java), a last line without newline.
        String text = "CONFIG_A=y\r\n  CONFIG_B=m \t\nCONFIG_NOVALUE\nX=1\nCONFIG_=empty\n\u00a0CONFIG_C=\u00e9\n \nCONFIG_D=";
        assertEquals(byTheRule(text), parsed(text));
        assertEquals(Map.of("A", "y", "B", "m", "", "empty", "D", ""), parsed(text));
    }

    @Test
    void randomTextsReadByTheRule() {
        Random random = new Random(21);
        String[] pieces = {"CONFIG_", "A", "_B", "=", "y", "m", "\n", "\r", " ", "\t", "#", "\"", "x=y", "\u00e9", "\n\n"};
        for (int i = 0; i < 2000; i++) {
            StringBuilder text = new StringBuilder();
            for (int n = random.nextInt(40); n > 0; n--) {
                text.append(pieces[random.nextInt(pieces.length)]);
            }
            assertEquals(byTheRule(text.toString()), parsed(text.toString()), text.toString());
        }
    }
}
