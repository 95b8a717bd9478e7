package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tailor.adapt.AdapterMethods;
import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.serve.ApiException;
import dev.tailor.serve.RequestBody;
import dev.tailor.train.TrainingMethod;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The body of {@code POST /v1/fine_tuning/jobs} read into a job's settings, as OpenAI defines it ({@code model},
 * {@code training_file}, {@code validation_file}, {@code suffix}, {@code seed}, {@code method} with its supervised
 * {@code hyperparameters}, or the older top-level {@code hyperparameters}) with Tailor's extensions: {@code adapter}
 * (any registered adapter method and its options by config name; LoRA r=8 on all linear layers when absent),
 * {@code training} ({@code seq_len}, {@code checkpoint_every}) and {@code rollout} ({@code canary}, {@code promote}).
 * Every refusal is a 400 naming the field.
 */
final class JobRequest {
    /** The epochs of {@code "n_epochs": "auto"}. */
    static final int AUTO_EPOCHS = 3;
    /** The batch of {@code "batch_size": "auto"}. */
    static final int AUTO_BATCH = 4;
    /** A checkpoint every this many updates unless {@code training.checkpoint_every} says otherwise. */
    static final int DEFAULT_CHECKPOINT_EVERY = 50;
    /** Packed sequences are at most this long unless {@code training.seq_len} says otherwise. */
    static final int DEFAULT_SEQ_LEN = 512;
    private static final Set<String> FIELDS = Set.of("model", "training_file", "validation_file", "suffix", "seed",
            "method", "hyperparameters", "adapter", "training", "rollout");

    private JobRequest() {
    }

    /** What the request asks, its files checked. */
    record Parsed(String trainingFile, String validationFile, String suffix, long seed, JobSettings settings) {
    }

    /**
     * Reads {@code body}.
     *
     * @param maxPositions the base's context, which bounds {@code seq_len}
     * @throws ApiException 400 naming the field that is missing, of the wrong type or out of range
     */
    static Parsed parse(RequestBody body, int maxPositions) {
        for (String name : body.fields()) {
            if (!FIELDS.contains(name)) {
                throw ApiException.badRequest(name, "unknown field '" + name + "'; a fine-tuning job takes "
                        + String.join(", ", FIELDS.stream().sorted().toList()));
            }
        }
        String training = body.requiredString("training_file");
        String validation = body.string("validation_file");
        String suffix = body.string("suffix");
        if (suffix != null && !suffix.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw ApiException.badRequest("suffix", "'suffix' names the adapter: 1 to 64 letters, digits, '.', '_' "
                    + "or '-', starting with a letter or digit, got '" + suffix + "'");
        }
        long seed = body.node("seed") == null ? ThreadLocalRandom.current().nextInt(1 << 30)
                : body.longInteger("seed", 0);
        JsonNode hyper = hyperparameters(body);
        int epochs = autoOrInt(hyper, "n_epochs", AUTO_EPOCHS, 1, 50);
        int batch = autoOrInt(hyper, "batch_size", AUTO_BATCH, 1, 256);
        double multiplier = autoOrNumber(hyper, "learning_rate_multiplier", 1.0, 1e-3, 1e3);
        JsonNode adapter = object(body.node("adapter"), "adapter");
        String method = adapter.path("method").isMissingNode() ? "lora" : text(adapter.get("method"), "adapter.method");
        Map<String, List<String>> options = options(adapter);
        if (method.equals("lora") && !options.containsKey("target_modules")) {
            options.put("target_modules", List.of("all-linear"));
        }
        if (!AdapterMethods.names().contains(method)) {
            throw ApiException.badRequest("adapter.method", "'adapter.method' must be an adapter method: "
                    + String.join(", ", AdapterMethods.names()) + "; got '" + method + "'");
        }
        try {
            TrainingMethod.of(method, null, options);
        } catch (InvalidOptionException e) {
            throw ApiException.badRequest("adapter." + e.option(), "'adapter': " + e.getMessage());
        }
        JsonNode trainingExt = object(body.node("training"), "training");
        int seqLen = intIn(trainingExt, "seq_len", Math.min(DEFAULT_SEQ_LEN, maxPositions), 8, maxPositions,
                "training.");
        int checkpointEvery = intIn(trainingExt, "checkpoint_every", DEFAULT_CHECKPOINT_EVERY, 1, 1_000_000,
                "training.");
        unknown(trainingExt, "training", Set.of("seq_len", "checkpoint_every"));
        JsonNode rollout = object(body.node("rollout"), "rollout");
        unknown(rollout, "rollout", Set.of("canary", "promote"));
        Double canary = null;
        if (rollout.has("canary") && !rollout.get("canary").isNull()) {
            JsonNode c = rollout.get("canary");
            if (!c.isNumber() || !(c.asDouble() > 0 && c.asDouble() < 1)) {
                throw ApiException.badRequest("rollout.canary", "'rollout.canary' is the new version's share of the "
                        + "traffic, a number between 0 and 1 (exclusive), got " + c);
            }
            canary = c.asDouble();
        }
        boolean promote = true;
        if (rollout.has("promote") && !rollout.get("promote").isNull()) {
            if (!rollout.get("promote").isBoolean()) {
                throw ApiException.badRequest("rollout.promote", "'rollout.promote' must be true or false, got "
                        + rollout.get("promote"));
            }
            promote = rollout.get("promote").asBoolean();
        }
        return new Parsed(training, validation, suffix, seed, new JobSettings(epochs, batch, multiplier, method,
                options, seqLen, checkpointEvery, canary, promote));
    }

    /** The hyperparameters: {@code method.supervised.hyperparameters}, or the older top-level ones. */
    private static JsonNode hyperparameters(RequestBody body) {
        JsonNode method = object(body.node("method"), "method");
        JsonNode top = body.node("hyperparameters");
        if (method.size() == 0) {
            return object(top, "hyperparameters");
        }
        String type = method.path("type").asText("supervised");
        if (!type.equals("supervised")) {
            throw ApiException.badRequest("method.type", "this server fine-tunes with the supervised method only, "
                    + "got '" + type + "'");
        }
        unknown(method, "method", Set.of("type", "supervised"));
        if (top != null) {
            throw ApiException.badRequest("hyperparameters", "give the hyperparameters in method.supervised."
                    + "hyperparameters or at the top, not both");
        }
        JsonNode supervised = object(method.get("supervised"), "method.supervised");
        unknown(supervised, "method.supervised", Set.of("hyperparameters"));
        return object(supervised.get("hyperparameters"), "method.supervised.hyperparameters");
    }

    /** The adapter's options as {@code tailor train}'s flags give them: each one's texts. */
    private static Map<String, List<String>> options(JsonNode adapter) {
        Map<String, List<String>> options = new LinkedHashMap<>();
        adapter.properties().forEach(e -> {
            if (e.getKey().equals("method") || e.getValue().isNull()) {
                return;
            }
            JsonNode v = e.getValue();
            List<String> texts = new ArrayList<>();
            if (v.isArray()) {
                v.forEach(item -> texts.add(scalar(item, "adapter." + e.getKey())));
            } else {
                texts.add(scalar(v, "adapter." + e.getKey()));
            }
            options.put(e.getKey(), texts);
        });
        return options;
    }

    private static String scalar(JsonNode v, String field) {
        if (v.isTextual() || v.isNumber() || v.isBoolean()) {
            return v.asText();
        }
        throw ApiException.badRequest(field, "'" + field + "' must be a string, a number, true or false, or a list "
                + "of them, got " + v);
    }

    private static JsonNode object(JsonNode node, String field) {
        if (node == null || node.isNull()) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (!node.isObject()) {
            throw RequestBody.wrongType(field, "an object", node);
        }
        return node;
    }

    private static String text(JsonNode node, String field) {
        if (!node.isTextual()) {
            throw RequestBody.wrongType(field, "a string", node);
        }
        return node.asText();
    }

    private static void unknown(JsonNode object, String field, Set<String> known) {
        object.fieldNames().forEachRemaining(name -> {
            if (!known.contains(name)) {
                throw ApiException.badRequest(field + "." + name, "unknown field '" + field + "." + name + "'; '"
                        + field + "' takes " + String.join(", ", known.stream().sorted().toList()));
            }
        });
    }

    private static int autoOrInt(JsonNode hyper, String name, int auto, int min, int max) {
        JsonNode v = hyper.get(name);
        if (v == null || v.isNull() || (v.isTextual() && v.asText().equals("auto"))) {
            return auto;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw ApiException.badRequest(name, "'" + name + "' must be \"auto\" or a whole number from " + min
                    + " to " + max + ", got " + v);
        }
        return v.asInt();
    }

    private static double autoOrNumber(JsonNode hyper, String name, double auto, double min, double max) {
        JsonNode v = hyper.get(name);
        if (v == null || v.isNull() || (v.isTextual() && v.asText().equals("auto"))) {
            return auto;
        }
        if (!v.isNumber() || !(v.asDouble() >= min && v.asDouble() <= max)) {
            throw ApiException.badRequest(name, "'" + name + "' must be \"auto\" or a number from " + min + " to "
                    + max + ", got " + v);
        }
        return v.asDouble();
    }

    private static int intIn(JsonNode object, String name, int absent, int min, int max, String prefix) {
        JsonNode v = object.get(name);
        if (v == null || v.isNull()) {
            return absent;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw ApiException.badRequest(prefix + name, "'" + prefix + name + "' must be a whole number from " + min
                    + " to " + max + ", got " + v);
        }
        return v.asInt();
    }
}
