package org.lkmpre.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import org.lkmpre.AtomicFile;
import org.lkmpre.measure.Measurement;

/** Writes a {@link Measurement} as JSON (layout in docs/measure.md). */
final class MeasurementJson {
    private MeasurementJson() {
    }

    static void write(String arch, Measurement m, Path file) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(bytes, JsonEncoding.UTF8)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("arch", arch);
            g.writeStringField("kernel", m.kernel());
            g.writeNumberField("modules", m.modules());
            g.writeNumberField("rounds", m.rounds());
            g.writeStringField("lookup_function", m.lookupFunction());
            g.writeObjectFieldStart("lkmpre");
            g.writeNumberField("undefined", m.undefined());
            g.writeNumberField("preresolved", m.preresolved());
            g.writeEndObject();
            side(g, "stock", m.stock());
            side(g, "preresolved", m.preresolvedRun());
            g.writeArrayFieldStart("classes");
            for (Measurement.ClassGain c : m.classes()) {
                g.writeStartObject();
                g.writeStringField("deps", c.deps());
                g.writeNumberField("modules", c.modules());
                spread(g, "lookup_gain_pct", c.lookup());
                spread(g, "load_gain_pct", c.load());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("breakdown");
            for (Measurement.FunctionCost f : m.breakdown()) {
                g.writeStartObject();
                g.writeStringField("function", f.function());
                g.writeNumberField("stock_ns", f.stockNs());
                g.writeNumberField("preresolved_ns", f.preresolvedNs());
                g.writeEndObject();
            }
            g.writeEndArray();
            Measurement.CountCheck c = m.counts();
            g.writeObjectFieldStart("lookup_counts");
            g.writeNumberField("modules", c.modules());
            g.writeNumberField("stock_kernel", c.stockKernel());
            g.writeNumberField("stock_lkmpre_undefined", c.stockLkmpre());
            g.writeNumberField("preresolved_kernel", c.preKernel());
            g.writeNumberField("preresolved_lkmpre_left", c.preLkmpre());
            g.writeBooleanField("equal", c.matches());
            g.writeArrayFieldStart("differing");
            for (String d : c.differing()) {
                g.writeString(d);
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeEndObject();
        }
        AtomicFile.write(file, bytes.toByteArray());
    }

    private static void side(JsonGenerator g, String name, Measurement.Side s) throws IOException {
        g.writeObjectFieldStart(name);
        g.writeNumberField("lookups", s.lookups());
        g.writeNumberField("lookup_ns", s.lookupNs());
        g.writeNumberField("load_ns", s.loadNs());
        g.writeNumberField("init_ns", s.initNs());
        g.writeNumberField("wall_ns", s.wallNs());
        g.writeEndObject();
    }

    /** The median as the field; the spread beside it. */
    private static void spread(JsonGenerator g, String name, Measurement.Spread s) throws IOException {
        g.writeNumberField(name, Math.round(s.median() * 10) / 10.0);
        g.writeArrayFieldStart(name + "_range");
        g.writeNumber(Math.round(s.min() * 10) / 10.0);
        g.writeNumber(Math.round(s.max() * 10) / 10.0);
        g.writeEndArray();
    }
}
