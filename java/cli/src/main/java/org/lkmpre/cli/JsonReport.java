package org.lkmpre.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Optional;
import org.lkmpre.AtomicFile;
import org.lkmpre.preresolve.ModuleReport;
import org.lkmpre.preresolve.ModuleStatus;
import org.lkmpre.preresolve.Report;
import org.lkmpre.preresolve.Unresolved;

/** Writes a {@link Report} as JSON; the layout is documented in docs/report.md. */
final class JsonReport {
    private JsonReport() {
    }

    /** Writes {@code report} to {@code file} atomically (temporary file, then rename). */
    static void write(Report report, Path file) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(report, out);
        AtomicFile.write(file, out.toByteArray());
    }

    static void write(Report report, OutputStream out) throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeObjectFieldStart("kernel");
            g.writeStringField("origin", report.kernelOrigin());
            writeOptional(g, "banner", report.kernel().banner());
            writeOptional(g, "build_id", report.kernel().buildId());
            writeOptional(g, "release", report.kernel().release());
            g.writeEndObject();
            g.writeObjectFieldStart("summary");
            g.writeNumberField("modules", report.modules().size());
            for (ModuleStatus s : ModuleStatus.values()) {
                g.writeNumberField(status(s), report.count(s));
            }
            g.writeNumberField("fully_preresolved", report.fullyPreresolved());
            g.writeNumberField("undefined_symbols", report.undefinedSymbols());
            g.writeNumberField("preresolved_symbols", report.preresolvedSymbols());
            g.writeEndObject();
            g.writeArrayFieldStart("modules");
            for (ModuleReport m : report.modules()) {
                g.writeStartObject();
                g.writeStringField("path", m.path());
                g.writeStringField("status", status(m.status()));
                if (!m.message().isEmpty()) {
                    g.writeStringField("message", m.message());
                }
                g.writeNumberField("undefined", m.undefined());
                g.writeNumberField("preresolved", m.preresolved());
                g.writeBooleanField("fully", m.fully());
                g.writeArrayFieldStart("unresolved");
                for (Unresolved u : m.unresolved()) {
                    g.writeStartObject();
                    g.writeStringField("symbol", u.symbol());
                    g.writeStringField("reason", u.reason().code());
                    if (!u.detail().isEmpty()) {
                        g.writeStringField("detail", u.detail());
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
    }

    private static String status(ModuleStatus s) {
        return s.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static void writeOptional(JsonGenerator g, String name, Optional<String> value) throws IOException {
        if (value.isPresent()) {
            g.writeStringField(name, value.get());
        } else {
            g.writeNullField(name);
        }
    }
}
