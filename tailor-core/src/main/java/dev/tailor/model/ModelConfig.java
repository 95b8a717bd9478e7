package dev.tailor.model;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.gguf.GgufConfig;
import dev.tailor.io.gguf.GgufFile;
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

    /** Whether linear {@code site} has a bias: q, k and v with {@code attention_bias} (qwen2 always). */
    public boolean hasBias(LinearSite site) {
        return attentionBias && (site == LinearSite.Q_PROJ || site == LinearSite.K_PROJ || site == LinearSite.V_PROJ);
    }

    /**
     * Reads {@code dir/config.json} (anything after its one JSON object is an error), or the metadata of a GGUF file
     * when {@code dir} is one.
     */
    public static ModelConfig load(Path dir) {
        if (GgufFile.isGguf(dir)) {
            return parse(dir, json(dir));
        }
        Path file = dir.resolve("config.json");
        if (Files.isDirectory(file)) {
            throw new ConfigException(file + ": is a directory, not a file");
        }
        try {
            return parse(file, ConfigJson.MAPPER.readTree(Files.readAllBytes(file)));
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": not found (a model directory needs config.json)");
        } catch (IOException e) {
            throw new ConfigException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * The {@code config.json} of a model directory as JSON, or the one a GGUF file's metadata describes
     * ({@link GgufConfig#huggingFace}).
     *
     * @throws ConfigException naming the file when it is missing or not a JSON object
     * @throws dev.tailor.io.TensorFormatException naming the GGUF file and what is wrong with it
     */
    public static ObjectNode json(Path dir) {
        if (GgufFile.isGguf(dir)) {
            try (GgufFile gguf = GgufFile.open(dir)) {
                return GgufConfig.huggingFace(gguf);
            }
        }
        Path file = dir.resolve("config.json");
        try {
            JsonNode root = ConfigJson.MAPPER.readTree(Files.readAllBytes(file));
            if (root instanceof ObjectNode object) {
                return object;
            }
            throw new ConfigException(file + ": not a JSON object");
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
        String act = root.hasNonNull("hidden_act") ? f.string("hidden_act") : "silu";
        if (!act.equals("silu")) {
            throw new ConfigException(file + ": hidden_act \"" + act + "\" is not supported (only silu)");
        }
        if (f.bool("use_sliding_window", false)) {
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
        if ((long) heads * headDim > Integer.MAX_VALUE) {
            throw new ConfigException(file + ": num_attention_heads " + heads + " × head_dim " + headDim + " = "
                    + (long) heads * headDim + " query features, more than a tensor dimension holds ("
                    + Integer.MAX_VALUE + ")");
        }
        int maxPositions = root.hasNonNull("max_position_embeddings") ? f.positiveInt("max_position_embeddings") : 2048;
        if (root.hasNonNull("sliding_window")) {
            maxPositions = Math.min(maxPositions, f.positiveInt("sliding_window"));
        }
        boolean attentionBias = modelType.equals("qwen2") || f.bool("attention_bias", false);
        if (f.bool("mlp_bias", false)) {
            throw new ConfigException(file + ": mlp_bias true is not supported");
        }
        return new ModelConfig(modelType, hidden, f.positiveInt("intermediate_size"),
                f.positiveInt("num_hidden_layers"), heads, kvHeads, headDim, f.positive("rms_norm_eps", 1e-6),
                f.positive("rope_theta", 10000.0), ropeScaling(file, root.get("rope_scaling")),
                f.positiveInt("vocab_size"), maxPositions, f.bool("tie_word_embeddings", false), attentionBias,
                modelType.equals("qwen3"), f.tokenId("bos_token_id"),
                f.tokenIds("eos_token_id"));
    }

    /**
     * {@code rope_scaling}: null, or an object whose {@code rope_type} (or older {@code type}) is default, linear
     * (a {@code factor} &gt; 0) or llama3 (positive {@code factor}, {@code low_freq_factor} below
     * {@code high_freq_factor}, and {@code original_max_position_embeddings}).
     */
    private static RopeScaling ropeScaling(Path file, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new ConfigException(file + ": field rope_scaling must be an object or null, got " + node);
        }
        Fields f = new Fields(file, node, "rope_scaling.");
        String type = node.hasNonNull("rope_type") ? f.string("rope_type") : f.string("type");
        return switch (type) {
            case "default" -> null;
            case "linear" -> new RopeScaling(type, f.positive("factor", Double.NaN), 0, 0, 0);
            case "llama3" -> {
                double low = f.positive("low_freq_factor", Double.NaN);
                double high = f.positive("high_freq_factor", Double.NaN);
                if (high <= low) {
                    throw new ConfigException(file + ": field rope_scaling.high_freq_factor " + high
                            + " must be greater than rope_scaling.low_freq_factor " + low);
                }
                yield new RopeScaling(type, f.positive("factor", Double.NaN), low, high,
                        f.positiveInt("original_max_position_embeddings"));
            }
            default -> throw new ConfigException(file + ": rope_scaling type \"" + type
                    + "\" is not supported (supported: llama3, linear)");
        };
    }

    /**
     * Reads fields of one JSON object with messages that name the file and the field ({@code prefix} + key).
     *
     * @param prefix how the object's keys are named in messages, e.g. {@code "rope_scaling."}
     */
    private record Fields(Path file, JsonNode root, String prefix) {
        Fields(Path file, JsonNode root) {
            this(file, root, "");
        }

        String string(String key) {
            JsonNode n = root.get(key);
            if (n == null || !n.isTextual()) {
                throw new ConfigException(file + ": missing or non-string field " + prefix + key
                        + (n == null ? "" : ", got " + n));
            }
            return n.asText();
        }

        int positiveInt(String key) {
            JsonNode n = root.get(key);
            if (n == null || !n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0) {
                throw new ConfigException(file + ": field " + prefix + key + " must be a positive integer, got "
                        + (n == null ? "nothing" : n.toString()));
            }
            return n.asInt();
        }

        /** A finite number &gt; 0; {@code absent} when missing or null ({@code NaN}: required). */
        double positive(String key, double absent) {
            JsonNode n = root.get(key);
            if ((n == null || n.isNull()) && !Double.isNaN(absent)) {
                return absent;
            }
            if (n == null || !n.isNumber() || !Double.isFinite(n.asDouble()) || n.asDouble() <= 0) {
                throw new ConfigException(file + ": field " + prefix + key + " must be a finite number > 0, got "
                        + (n == null ? "nothing" : n.toString()));
            }
            return n.asDouble();
        }

        /** true or false; {@code absent} when missing or null. */
        boolean bool(String key, boolean absent) {
            JsonNode n = root.get(key);
            if (n == null || n.isNull()) {
                return absent;
            }
            if (!n.isBoolean()) {
                throw new ConfigException(file + ": field " + prefix + key + " must be true or false, got " + n);
            }
            return n.booleanValue();
        }

        /** A token id (a non-negative int), or -1 when missing or null. */
        int tokenId(String key) {
            JsonNode n = root.get(key);
            if (n == null || n.isNull()) {
                return -1;
            }
            if (!isTokenId(n)) {
                throw new ConfigException(file + ": field " + prefix + key + " must be a non-negative integer "
                        + "token id, got " + n);
            }
            return n.intValue();
        }

        /** A token id or a list of them; empty when missing or null. */
        List<Integer> tokenIds(String key) {
            JsonNode n = root.get(key);
            List<Integer> ids = new ArrayList<>();
            if (n == null || n.isNull()) {
                return ids;
            }
            for (JsonNode id : n.isArray() ? n : List.of(n)) {
                if (!isTokenId(id)) {
                    throw new ConfigException(file + ": field " + prefix + key
                            + " must be a non-negative integer token id or a list of them, got " + n);
                }
                ids.add(id.intValue());
            }
            return ids;
        }

        private static boolean isTokenId(JsonNode n) {
            return n.isIntegralNumber() && n.canConvertToInt() && n.intValue() >= 0;
        }
    }

    /**
     * The mapper for {@code config.json}, made when one is first read: a GGUF model's config comes from its metadata,
     * and loading Jackson's data binding for nothing costs a decoding process ~15 MB.
     */
    private static final class ConfigJson {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }
}
