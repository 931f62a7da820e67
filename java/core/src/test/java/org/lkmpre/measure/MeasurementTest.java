package org.lkmpre.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lkmpre.InputFormatException;

class MeasurementTest {
    private static LoadTrace trace(String... records) {
        List<String> lines = new java.util.ArrayList<>(List.of("lkmpre-loadtime 1", "kernel 6.1.0-test",
                "traced load_module resolve_symbol do_init_module"));
        lines.addAll(List.of(records));
        return LoadTrace.parse("t", lines);
    }

    private static final Map<String, Measurement.ModuleInfo> INFO = Map.of(
            "a.ko", new Measurement.ModuleInfo(0, 10, 0), "b.ko", new Measurement.ModuleInfo(1, 20, 4));

    @Test
    void gainsPerClassAndTheCountCheck() {
        LoadTrace stock = trace("L 1 a.ko 0", "T 1 a.ko resolve_symbol 10 1000", "T 1 a.ko load_module 1 9000",
                "T 1 a.ko do_init_module 1 4000", "L 1 b.ko 0", "T 1 b.ko resolve_symbol 20 2000",
                "T 1 b.ko load_module 1 8000", "L 2 a.ko 0", "T 2 a.ko resolve_symbol 10 3000",
                "T 2 a.ko load_module 1 9000", "L 2 b.ko 0", "T 2 b.ko resolve_symbol 20 2000", "W 1 50000", "W 2 70000");
        LoadTrace pre = trace("L 1 a.ko 0", "T 1 a.ko load_module 1 8000", "T 1 a.ko do_init_module 1 4000",
                "L 1 b.ko 0", "T 1 b.ko resolve_symbol 4 500", "T 1 b.ko load_module 1 7000", "L 2 a.ko 0",
                "T 2 a.ko load_module 1 7000", "L 2 b.ko 0", "T 2 b.ko resolve_symbol 4 1000", "W 1 40000", "W 2 30000");
        Measurement m = Measurement.of(stock, pre, INFO);
        assertEquals(2, m.modules());
        assertEquals(2, m.rounds());
        assertEquals(30, m.undefined());
        assertEquals(26, m.preresolved());
        assertEquals(100.0, m.classes().get(0).lookup().median());
        assertEquals(75.0, m.classes().get(1).lookup().median(), "b: 2000 -> 500 and 2000 -> 1000");
        assertEquals(50.0, m.classes().get(1).lookup().min());
        double round2 = 100.0 * (9000 - 7000) / 9000;
        assertEquals(new Measurement.Spread(round2, 20.0, round2), m.classes().get(0).load(),
                "a without init: 5000 -> 4000, and 9000 -> 7000 (no init traced in round 2); the upper median of two");
        assertEquals(70000, m.stock().wallNs());
        assertTrue(m.counts().matches(), m.counts().toString());
        assertEquals(30, m.counts().stockKernel());
        assertEquals(4, m.counts().preKernel());
    }

    @Test
    void aLookupCountOtherThanLkmpresIsReported() {
        LoadTrace stock = trace("L 1 a.ko 0", "T 1 a.ko resolve_symbol 9 1000");
        LoadTrace pre = trace("L 1 a.ko 0");
        Measurement.CountCheck c = Measurement.of(stock, pre, Map.of("a.ko", new Measurement.ModuleInfo(0, 10, 0))).counts();
        assertFalse(c.matches());
        assertEquals(List.of("a.ko (kernel 9/0, lkmpre 10/0)"), c.differing());
    }

    @Test
    void notTheToolsOutputIsRefused() {
        assertThrows(InputFormatException.class, () -> LoadTrace.parse("x", List.of("hello")));
        InputFormatException e = assertThrows(InputFormatException.class,
                () -> LoadTrace.parse("x", List.of("lkmpre-loadtime 1", "T 1 a.ko f x 3")));
        assertEquals("x: line 2: malformed record 'T 1 a.ko f x 3'", e.getMessage());
    }
}
