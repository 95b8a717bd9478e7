package dev.tailor.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Width;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The architecture of a Llama-family model, read from a Hugging Face {@code config.json}.
 *
 * @param modelType             llama, mistral, qwen2 or qwen3
 * @param hiddenSize            model width d
 * @param intermediateSize      SwiGLU width
 * @param numLayers             decoder blocks
 * @param numHeads              query heads
 * @param numKvHeads            key/value heads (GQA when fewer than query heads)
 * @param headDim               per-head width (explicit in qwen3, else hidden/heads)
 * @param rmsNormEps            RMSNorm epsilon
 * @param ropeTheta             RoPE base
 * @param ropeScaling           null, or llama3/linear scaling
 * @param vocabSize             vocabulary size
 * @param maxPositions          context length
 * @param tieWordEmbeddings     lm_head shares the embedding matrix
 * @param attentionBias         q/k/v projections have biases (qwen2 always)
 * @param qkNorm                per-head RMSNorm on q and k before RoPE (qwen3)
 * @param bosTokenId            beginning-of-sequence id, or -1
 * @param eosTokenIds           end-of-sequence ids (may be empty)
 */
public record ModelConfig(String modelType, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
                          int numKvHeads, int headDim, double rmsNormEps, double ropeTheta, RopeScaling ropeScaling,
                          int vocabSize, int maxPositions, boolean tieWordEmbeddings, boolean attentionBias,
                          boolean qkNorm, int bosTokenId, List<Integer> eosTokenIds) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> MODEL_TYPES = Set.of("llama", "mistral", "qwen2", "qwen3");

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** Width of all query heads together. */
    public int qDim() {
        return numHeads * headDim;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** The size this config gives to {@code width}. */
    public int width(Width width) {
        return switch (width) {
            case HIDDEN -> hiddenSize;
            case QUERY -> qDim();
            case KEY_VALUE -> kvDim();
            case INTERMEDIATE -> intermediateSize;
        };
    }

    /** The {@code [out, in]} shape of the weight of linear {@code site} in each block. */
    public int[] shape(LinearSite site) {
        return new int[] {width(site.out()), width(site.in())};
    }

    /** Reads {@code dir/config.json}. */
    public static ModelConfig load(Path dir) {
        Path file = dir.resolve("config.json");
        try {
            return parse(file, JSON.readTree(Files.readAllBytes(file)));
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": not found (a model directory needs config.json)");
        } catch (IOException e) {
            throw new ConfigException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Builds a config from a parsed {@code config.json}; {@code file} is used in messages.
     *
     * @throws ConfigException naming the field and value that is missing, wrong or unsupported
     */
    public static ModelConfig parse(Path file, JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new ConfigException(file + ": not a JSON object");
        }
        Fields f = new Fields(file, root);
        String modelType = f.string("model_type");
        if (!MODEL_TYPES.contains(modelType)) {
            throw new ConfigException(file + ": model_type \"" + modelType + "\" is not supported (supported: "
                    + String.join(", ", MODEL_TYPES.stream().sorted().toList()) + ")");
        }
        String act = root.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new ConfigException(file + ": hidden_act \"" + act + "\" is not supported (only silu)");
        }
        if (root.path("use_sliding_window").asBoolean(false)) {
            throw new ConfigException(file + ": use_sliding_window true is not supported");
        }
        int hidden = f.positiveInt("hidden_size");
        int heads = f.positiveInt("num_attention_heads");
        int kvHeads = root.has("num_key_value_heads") && !root.get("num_key_value_heads").isNull()
                ? f.positiveInt("num_key_value_heads") : heads;
        if (heads % kvHeads != 0) {
            throw new ConfigException(file + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        int headDim;
        if (root.hasNonNull("head_dim")) {
            headDim = f.positiveInt("head_dim");
        } else {
            if (hidden % heads != 0) {
                throw new ConfigException(file + ": hidden_size " + hidden + " is not divisible by num_attention_heads "
                        + heads + " and no head_dim is given");
            }
            headDim = hidden / heads;
        }
        if (headDim % 2 != 0) {
            throw new ConfigException(file + ": head_dim " + headDim + " must be even for RoPE");
        }
        int maxPositions = root.hasNonNull("max_position_embeddings") ? f.positiveInt("max_position_embeddings") : 2048;
        if (root.hasNonNull("sliding_window") && root.get("sliding_window").canConvertToInt()) {
            maxPositions = Math.min(maxPositions, root.get("sliding_window").asInt());
        }
        boolean attentionBias = modelType.equals("qwen2") || root.path("attention_bias").asBoolean(false);
        if (root.path("mlp_bias").asBoolean(false)) {
            throw new ConfigException(file + ": mlp_bias true is not supported");
        }
        return new ModelConfig(modelType, hidden, f.positiveInt("intermediate_size"),
                f.positiveInt("num_hidden_layers"), heads, kvHeads, headDim,
                root.path("rms_norm_eps").asDouble(1e-6), root.path("rope_theta").asDouble(10000.0),
                ropeScaling(file, root.get("rope_scaling")), f.positiveInt("vocab_size"), maxPositions,
                root.path("tie_word_embeddings").asBoolean(false), attentionBias, modelType.equals("qwen3"),
                root.path("bos_token_id").asInt(-1), eosIds(root.get("eos_token_id")));
    }

    private static RopeScaling ropeScaling(Path file, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        String type = node.hasNonNull("rope_type") ? node.get("rope_type").asText() : node.path("type").asText("");
        double factor = node.path("factor").asDouble(1.0);
        return switch (type) {
            case "default" -> null;
            case "linear" -> new RopeScaling(type, factor, 0, 0, 0);
            case "llama3" -> {
                for (String key : List.of("factor", "low_freq_factor", "high_freq_factor",
                        "original_max_position_embeddings")) {
                    if (!node.hasNonNull(key)) {
                        throw new ConfigException(file + ": rope_scaling of type llama3 needs " + key);
                    }
                }
                yield new RopeScaling(type, factor, node.get("low_freq_factor").asDouble(),
                        node.get("high_freq_factor").asDouble(), node.get("original_max_position_embeddings").asInt());
            }
            default -> throw new ConfigException(file + ": rope_scaling type \"" + type
                    + "\" is not supported (supported: llama3, linear)");
        };
    }

    private static List<Integer> eosIds(JsonNode node) {
        List<Integer> ids = new ArrayList<>();
        if (node == null || node.isNull()) {
            return ids;
        }
        if (node.isArray()) {
            node.forEach(n -> ids.add(n.asInt()));
        } else {
            ids.add(node.asInt());
        }
        return ids;
    }

    /** Reads required fields with messages that name the file and field. */
    private record Fields(Path file, JsonNode root) {
        String string(String key) {
            JsonNode n = root.get(key);
            if (n == null || !n.isTextual()) {
                throw new ConfigException(file + ": missing or non-string field " + key);
            }
            return n.asText();
        }

        int positiveInt(String key) {
            JsonNode n = root.get(key);
            if (n == null || !n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0) {
                throw new ConfigException(file + ": field " + key + " must be a positive integer, got "
                        + (n == null ? "nothing" : n.toString()));
            }
            return n.asInt();
        }
    }
}
