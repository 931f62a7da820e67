package org.lkmpre.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lkmpre.AtomicFile;
import org.lkmpre.simulate.KernelStrip;
import org.lkmpre.simulate.ModuleFacts;
import org.lkmpre.simulate.Simulation;

/** Writes a {@link Simulation} as JSON (layout in docs/simulate.md). */
final class SimulationJson {
    private SimulationJson() {
    }

    static void write(Simulation s, List<ModuleFacts> facts, int fully, Optional<KernelStrip> strip, Path file) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(bytes, JsonEncoding.UTF8)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeNumberField("modules", facts.size());
            g.writeStringField("dependencies", s.orderSource());
            g.writeArrayFieldStart("cycles");
            for (List<String> c : s.cycles()) {
                g.writeStartArray();
                for (String m : c) {
                    g.writeString(m);
                }
                g.writeEndArray();
            }
            g.writeEndArray();
            g.writeObjectFieldStart("modules_per_class");
            for (int c = 0; c < 3; c++) {
                g.writeNumberField(Simulation.CLASSES.get(c), s.modulesPerClass().get(c));
            }
            g.writeEndObject();
            g.writeObjectFieldStart("references");
            g.writeNumberField("total", s.references());
            g.writeNumberField("vmlinux", s.toVmlinux());
            g.writeNumberField("modules", s.toModules());
            g.writeNumberField("unresolved", s.unresolved());
            g.writeNumberField("left_by_preresolve", s.leftByPreresolve());
            g.writeNumberField("directly_bound", s.directlyBound());
            g.writeNumberField("direct_elsewhere", s.directElsewhere());
            g.writeEndObject();
            g.writeNumberField("fully_preresolved_modules", fully);
            g.writeArrayFieldStart("runs");
            for (Simulation.Run r : s.runs()) {
                g.writeStartObject();
                g.writeStringField("strategy", r.scenario().label());
                g.writeStringField("backend", r.backend());
                g.writeObjectFieldStart("nanos");
                for (int c = 0; c < 3; c++) {
                    g.writeNumberField(Simulation.CLASSES.get(c), r.nanosPerClass().get(c));
                }
                g.writeNumberField("total", r.totalNanos());
                g.writeEndObject();
                g.writeNumberField("probes", r.probes());
                g.writeNumberField("string_compares", r.stringCompares());
                g.writeNumberField("bloom_rejections", r.bloomRejections());
                g.writeNumberField("chain_steps", r.chainSteps());
                g.writeEndObject();
            }
            g.writeEndArray();
            if (strip.isPresent()) {
                g.writeObjectFieldStart("kernel_strip");
                for (Map.Entry<String, Long> e : strip.get().sections().entrySet()) {
                    g.writeNumberField(e.getKey(), e.getValue());
                }
                g.writeNumberField("total", strip.get().total());
                g.writeEndObject();
            }
            g.writeArrayFieldStart("init_sections");
            for (ModuleFacts f : facts) {
                if (f.initBytes() == 0 && f.initRefs().isEmpty()) {
                    continue;
                }
                g.writeStartObject();
                g.writeStringField("path", f.path());
                g.writeNumberField("init_bytes", f.initBytes());
                g.writeObjectFieldStart("relocations_into_init");
                for (Map.Entry<String, Integer> e : f.initRefs().entrySet()) {
                    g.writeNumberField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        AtomicFile.write(file, bytes.toByteArray());
    }
}
