package dev.tailor.compare;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.cost.HardwareProfile;

import java.util.List;

/**
 * {@code report.json}: {@code {"schema": "tailor-compare/1", "settings", "machine", "goal_percent", "scored_by",
 * "methods": [result.json's fields, "achieved_utilization", "on_pareto_front", "notes"], "pareto_front",
 * "projection", "environment"}}. Numbers that are not finite are null.
 */
final class ReportJson {
    /** The schema's name and version. */
    static final String SCHEMA = "tailor-compare/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ReportJson() {
    }

    static ObjectNode of(ComparisonResult result) {
        ObjectNode root = JSON.createObjectNode();
        root.put("schema", SCHEMA);
        ComparisonResult.Settings s = result.settings();
        root.putObject("settings").put("model", s.model()).put("base_parameters", s.baseParameters())
                .put("layers", s.layers()).put("hidden_size", s.hiddenSize()).put("train_data", s.trainData())
                .put("eval_data", s.evalData()).put("steps", s.steps()).put("seq_len", s.seqLen())
                .put("batch_size", s.batchSize()).put("seed", s.seed());
        root.set("machine", profile(result.machine()));
        root.put("goal_percent", MethodRun.GOAL_PERCENT);
        root.put("scored_by", result.scoredByAccuracy() ? "accuracy" : "eval_loss");
        List<String> front = result.paretoFront();
        ArrayNode methods = root.putArray("methods");
        double peak = result.machine().fp32Tflops() * 1e12;
        for (MethodRun r : result.runs()) {
            ObjectNode m = r.json();
            m.put("trainable_parameters", r.trainableParameters());
            Reports.putNumber(m, "run_seconds", r.runSeconds());
            Reports.putNumber(m, "tokens_per_second", r.tokensPerSecond());
            Reports.putNumber(m, "achieved_utilization", r.achievedUtilization(peak));
            m.put("on_pareto_front", front.contains(r.method()));
            ArrayNode notes = m.putArray("notes");
            PredictionNotes.of(result, r).forEach(notes::add);
            methods.add(m);
        }
        ArrayNode paretoFront = root.putArray("pareto_front");
        front.forEach(paretoFront::add);
        ComparisonResult.ProjectionResult p = result.projection();
        if (p == null) {
            root.putNull("projection");
        } else {
            ObjectNode projection = root.putObject("projection");
            projection.set("hardware", profile(p.hardware()));
            projection.put("model", p.model()).put("model_parameters", p.modelParameters()).put("tokens", p.tokens());
            ArrayNode list = projection.putArray("methods");
            for (ComparisonResult.Projected m : p.methods()) {
                list.addObject().put("method", m.method()).put("trainable_parameters", m.trainableParameters())
                        .put("memory_bytes", m.memoryBytes()).put("fits", m.fits()).put("seconds", m.seconds())
                        .put("money", m.money()).put("artifact_bytes", m.artifactBytes());
            }
        }
        ComparisonResult.Environment e = result.environment();
        ObjectNode env = root.putObject("environment").put("processors", e.processors()).put("java", e.java())
                .put("created", e.created());
        ArrayNode options = env.putArray("jvm_options");
        e.jvmOptions().forEach(options::add);
        return root;
    }

    private static ObjectNode profile(HardwareProfile h) {
        return JSON.createObjectNode().put("name", h.name()).put("description", h.description())
                .put("fp32_tflops", h.fp32Tflops()).put("bf16_tflops", h.bf16Tflops())
                .put("memory_bytes", h.memoryBytes()).put("bandwidth_gb_s", h.bandwidth() / 1e9)
                .put("utilization", h.utilization()).put("price_per_hour", h.pricePerHour()).put("source", h.source())
                .put("time_model", h.kernels() != null ? "kernels" : "utilization");
    }
}
