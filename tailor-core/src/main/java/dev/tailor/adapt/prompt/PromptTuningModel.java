package dev.tailor.adapt.prompt;

import java.util.List;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.adapt.AdapterConfigFields;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.adapt.PromptLearning;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tensor.Parameter;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A prompt tuning adapter: its config and the virtual token embeddings {@code prompt_embeddings [P, hidden]}.
 *
 * @param config     the options saved in {@code adapter_config.json}
 * @param embeddings the trainable embeddings
 */
public record PromptTuningModel(PromptTuningConfig config, Parameter embeddings) implements Adapter {

    /** The type saved as {@code peft_type}. */
    public static final String TYPE = "PROMPT_TUNING";

    /**
     * Fresh embeddings as PEFT's {@code PromptEmbedding} makes them: RANDOM draws N(0, 1) (seeded); TEXT takes the
     * rows of {@code embed} for the ids of {@code tokenizer.encode(initText)} with the tokenizer's special tokens
     * (as {@code tokenizer(text)["input_ids"]}), cut to P, or repeated {@code ceil(P / len)} times and then cut.
     *
     * @param embed     the base's input embeddings (TEXT only)
     * @param tokenizer the base's tokenizer (TEXT only)
     * @throws IllegalArgumentException when the init text encodes to no tokens
     */
    public static PromptTuningModel create(PromptTuningConfig config, WeightMatrix embed, Tokenizer tokenizer, long seed) {
        int p = config.numVirtualTokens();
        int d = config.tokenDim();
        float[] values = new float[p * d];
        switch (config.init()) {
            case RANDOM -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) rnd.nextGaussian();
                }
            }
            case TEXT -> {
                if (embed.cols() != d) {
                    throw new IllegalArgumentException("token_dim " + d + " differs from the embedding width "
                            + embed.cols());
                }
                int[] ids = tokenizer.encode(config.initText(), true);
                if (ids.length == 0) {
                    throw new IllegalArgumentException("prompt_tuning_init_text \"" + config.initText()
                            + "\" encodes to no tokens");
                }
                for (int t = 0; t < p; t++) {
                    embed.copyRow(ids[t % ids.length], values, t * d);
                }
            }
        }
        return new PromptTuningModel(config, new Parameter(PromptLearning.TENSOR, new long[] {p, d}, values));
    }

    /**
     * Reads a PEFT prompt tuning directory whose parsed {@code adapter_config.json} is {@code json}.
     *
     * @throws IllegalArgumentException naming the file and key when the config is not one Tailor reads
     * @throws dev.tailor.io.TensorFormatException naming the file, the expected and actual shapes
     */
    public static PromptTuningModel load(Path dir, JsonNode json) {
        AdapterConfigFields fields = PromptLearning.fields(dir, json, TYPE);
        int tokenDim = PromptLearning.positive(dir, json, "token_dim");
        int numLayers = fields.integer("num_layers", 0, 0);
        int numHeads = fields.integer("num_attention_heads", 0, 0);
        String initName = fields.string("prompt_tuning_init", null);
        String text = fields.string("prompt_tuning_init_text", null);
        String tokenizer = fields.string("tokenizer_name_or_path", null);
        Parameter embeddings = PromptLearning.read(dir, json, tokenDim, "token_dim");
        PromptTuningInit init;
        try {
            init = initName != null ? PromptTuningInit.parse(initName) : PromptTuningInit.RANDOM;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(fields.file() + ": " + e.getMessage(), e);
        }
        PromptTuningConfig config = new PromptTuningConfig((int) embeddings.shape()[0], tokenDim, numLayers, numHeads,
                init == PromptTuningInit.TEXT && text == null ? PromptTuningInit.RANDOM : init, text, tokenizer);
        return new PromptTuningModel(config, embeddings);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String describe() {
        return "prompt tuning, " + config.numVirtualTokens() + " virtual tokens (" + config.init() + " init)";
    }

    @Override
    public AdapterSites sites() {
        return new AdapterSites(Map.of(), Map.of(), embeddings, null);
    }

    /** PEFT's keys for {@code PromptTuningConfig}. */
    @Override
    public Map<String, Object> config(String baseModel) {
        return savedConfig(config, baseModel);
    }

    private static Map<String, Object> savedConfig(PromptTuningConfig config, String baseModel) {
        Map<String, Object> json = PromptLearning.configKeys(TYPE, baseModel, config.numVirtualTokens(),
                config.tokenDim(), config.numLayers(), config.numAttentionHeads());
        json.put("prompt_tuning_init", config.init().name());
        json.put("prompt_tuning_init_text", config.initText());
        json.put("tokenizer_kwargs", null);
        json.put("tokenizer_name_or_path", config.tokenizerNameOrPath());
        return json;
    }

    /**
     * The shape of what {@link #create} makes for {@code config}, without the base: the P embeddings, and P
     * virtual tokens in front of the input, which every layer computes as rows of its own.
     */
    public static AdapterShape shape(PromptTuningConfig config, String baseName) {
        List<AdapterShape.Tensor> tensors = List.of(new AdapterShape.Tensor(PromptLearning.TENSOR,
                new long[] {config.numVirtualTokens(), config.tokenDim()}));
        return new AdapterShape(tensors, tensors, savedConfig(config, baseName), List.of(), config.numVirtualTokens(),
                0, 0);
    }

    /** The virtual tokens' embeddings as {@code prompt_embeddings}. */
    @Override
    public List<Parameter> savedTensors() {
        return PromptLearning.saved(embeddings);
    }
}
