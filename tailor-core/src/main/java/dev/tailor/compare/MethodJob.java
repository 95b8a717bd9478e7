package dev.tailor.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.PythonJson;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.TrainOptions;
import dev.tailor.train.TrainingMethod;
import dev.tailor.train.TrainingRun;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.train.optim.ScheduleType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the process training one method is told, as the {@code job.json} it reads: the base, the data, the method with
 * its options and learning rate (a partial plan resolved against the base), the budget, the seed and the output.
 * Every method trains as {@code tailor train} would with these settings: AdamW, a linear decay without warm-up,
 * gradient clipping at 1, a checkpoint every tenth of the budget (so an interrupted run resumes), evaluation at the end.
 *
 * @param json the job as written
 */
record MethodJob(ObjectNode json) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The job of {@code method} in {@code spec}, on a base of {@code layers} blocks. */
    static MethodJob of(ComparisonSpec spec, MethodSpec method, int layers) {
        ObjectNode n = JSON.createObjectNode();
        n.put("model", spec.model().toAbsolutePath().toString());
        n.put("model_name", spec.modelName());
        n.put("train_data", spec.trainData().toAbsolutePath().toString());
        n.put("eval_data", spec.evalData() == null ? null : spec.evalData().toAbsolutePath().toString());
        n.put("method", method.name());
        if (method.name().equals("partial")) {
            FreezePlan p = method.plan(layers);
            ObjectNode plan = n.putObject("partial_plan");
            if (p.layers() != null) {
                plan.putArray("layers").add(p.layers()[0]).add(p.layers()[1]);
            }
            ArrayNode modules = plan.putArray("modules");
            p.modules().forEach(modules::add);
            plan.put("bias_norm_only", p.biasAndNormOnly()).put("embeddings", p.embeddings()).put("head", p.head());
        }
        ObjectNode options = n.putObject("options");
        new java.util.TreeMap<>(method.options()).forEach((k, v) -> {
            ArrayNode values = options.putArray(k);
            v.forEach(values::add);
        });
        n.put("lr", method.lr());
        n.put("steps", spec.steps());
        n.put("seq_len", spec.seqLen());
        n.put("batch_size", spec.batchSize());
        n.put("seed", spec.seed());
        n.put("output", spec.runDir(method.name()).toAbsolutePath().toString());
        return new MethodJob(n);
    }

    /** A job read back. */
    static MethodJob parse(byte[] bytes) throws java.io.IOException {
        return new MethodJob((ObjectNode) JSON.readTree(bytes));
    }

    /** The job's bytes, indented. */
    byte[] bytes() throws java.io.IOException {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(json);
    }

    /** A hash of the whole job: a method's result is reused only by a job with the same key. */
    String key() {
        try {
            byte[] canonical = PythonJson.of(false, null, null, true).dumps(JSON.convertValue(json, Map.class))
                    .getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e);
        }
    }

    /** The method's name. */
    String method() {
        return json.path("method").asText();
    }

    /** The base model's directory. */
    Path model() {
        return Path.of(json.path("model").asText());
    }

    /** The output directory. */
    Path output() {
        return Path.of(json.path("output").asText());
    }

    /** The training run it describes, resuming from any checkpoint its output holds. */
    TrainingRun.Spec trainingSpec() {
        String eval = json.path("eval_data").isTextual() ? json.path("eval_data").asText() : null;
        DataConfig data = new DataConfig(Path.of(json.path("train_data").asText()), eval == null ? null : Path.of(eval),
                null, eval == null ? 0.1 : 0, json.path("seq_len").asInt(), json.path("batch_size").asInt(),
                json.path("seed").asLong(), true, false);
        int steps = json.path("steps").asInt();
        TrainOptions options = new TrainOptions(steps, 1, 1, json.path("lr").asDouble(), 0, ScheduleType.LINEAR, 0,
                1.0, OptimizerType.ADAMW, 0, Math.max(1, steps / 10), 1, 1, false);
        return new TrainingRun.Spec(new TrainingRun.Base.Pretrained(Path.of(json.path("model").asText()),
                json.path("model_name").asText()), data, trainingMethod(), options, output(), null, true);
    }

    private TrainingMethod trainingMethod() {
        String name = method();
        FreezePlan plan = null;
        JsonNode p = json.get("partial_plan");
        if (p != null) {
            List<String> modules = new ArrayList<>();
            p.path("modules").forEach(m -> modules.add(m.asText()));
            int[] layers = p.has("layers") ? new int[] {p.get("layers").get(0).asInt(), p.get("layers").get(1).asInt()}
                    : null;
            plan = new FreezePlan(false, layers, modules, p.path("bias_norm_only").asBoolean(),
                    p.path("embeddings").asBoolean(), p.path("head").asBoolean());
        }
        Map<String, List<String>> options = new LinkedHashMap<>();
        json.path("options").properties().forEach(e -> {
            List<String> values = new ArrayList<>();
            e.getValue().forEach(v -> values.add(v.asText()));
            options.put(e.getKey(), values);
        });
        return TrainingMethod.of(name, plan, options);
    }
}
