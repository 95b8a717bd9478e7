package dev.tailor.adapt.prefix;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterSites;
import dev.tailor.adapt.PromptLearning;
import dev.tailor.train.Parameter;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A prefix tuning adapter: its config and the keys and values of every layer, {@code prompt_embeddings
 * [P, layers·2·kvHeads·headDim]} in PEFT's layout (see {@link PromptLearning}).
 *
 * @param config the options saved in {@code adapter_config.json}
 * @param prefix the trainable keys and values
 */
public record PrefixTuning(PrefixTuningConfig config, Parameter prefix) implements Adapter {

    /** The type saved as {@code peft_type}. */
    public static final String TYPE = "PREFIX_TUNING";

    /**
     * A fresh prefix as PEFT's {@code PrefixEncoder} makes it without projection: {@code torch.nn.Embedding}'s
     * default, each value drawn from N(0, 1), seeded.
     */
    public static PrefixTuning create(PrefixTuningConfig config, long seed) {
        int p = config.numVirtualTokens();
        int width = config.width();
        float[] values = new float[p * width];
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        return new PrefixTuning(config, new Parameter(PromptLearning.TENSOR, new long[] {p, width}, values));
    }

    /**
     * Reads a PEFT prefix tuning directory whose parsed {@code adapter_config.json} is {@code json}; a prefix
     * trained with {@code prefix_projection} loads too, as PEFT saves its projected output.
     *
     * @throws IllegalArgumentException naming the file and key when the config is not one Tailor reads
     * @throws dev.tailor.io.TensorFormatException naming the file, the expected and actual shapes
     */
    public static PrefixTuning load(Path dir, JsonNode json) {
        Path file = dir.resolve("adapter_config.json");
        String type = json.path("peft_type").asText("");
        if (!type.equals(TYPE)) {
            throw new IllegalArgumentException(file + ": peft_type \"" + type + "\" is not " + TYPE);
        }
        if (json.path("num_transformer_submodules").asInt(1) != 1) {
            throw new IllegalArgumentException(file + ": num_transformer_submodules must be 1 for a causal LM, is "
                    + json.get("num_transformer_submodules"));
        }
        int tokenDim = PromptLearning.positive(dir, json, "token_dim");
        int layers = PromptLearning.positive(dir, json, "num_layers");
        Parameter prefix = PromptLearning.read(dir, json, layers * 2 * tokenDim, "num_layers·2·token_dim");
        PrefixTuningConfig config = new PrefixTuningConfig((int) prefix.shape()[0], tokenDim, layers,
                json.path("num_attention_heads").asInt(0), json.path("encoder_hidden_size").asInt(tokenDim),
                json.path("prefix_projection").asBoolean(false));
        return new PrefixTuning(config, prefix);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String describe() {
        return "prefix tuning, " + config.numVirtualTokens() + " virtual tokens on " + config.numLayers() + " layers";
    }

    @Override
    public AdapterSites sites() {
        return new AdapterSites(Map.of(), Map.of(), null, prefix);
    }

    /** Writes PEFT's keys for {@code PrefixTuningConfig} and the tensor {@code prompt_embeddings}. */
    @Override
    public void save(Path dir, String baseModel, String baseFingerprint) {
        Map<String, Object> json = PromptLearning.configKeys(TYPE, baseModel, config.numVirtualTokens(),
                config.tokenDim(), config.numLayers(), config.numAttentionHeads());
        json.put("encoder_hidden_size", config.encoderHiddenSize());
        json.put("prefix_projection", config.prefixProjection());
        PromptLearning.save(dir, json, prefix, baseFingerprint);
    }
}
