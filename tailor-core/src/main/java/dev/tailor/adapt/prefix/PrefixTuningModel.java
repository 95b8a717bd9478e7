package dev.tailor.adapt.prefix;

import java.util.List;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.adapt.AdapterConfigFields;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.adapt.PromptLearning;
import dev.tailor.tensor.Parameter;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A prefix tuning adapter: its config and the keys and values of every layer, {@code prompt_embeddings
 * [P, layers·2·kvHeads·headDim]} in PEFT's layout (see {@link PromptLearning}). With {@code prefix_projection}
 * a fresh adapter trains an embedding and an MLP ({@link PrefixProjection}) that write the keys and values; PEFT
 * saves (and serves) only the keys and values they give, and so does Tailor.
 *
 * @param config     the options saved in {@code adapter_config.json}
 * @param prefix     the keys and values: trained, or served, or (with a projection) written by it
 * @param projection what is trained in place of the prefix, or null
 */
public record PrefixTuningModel(PrefixTuningConfig config, Parameter prefix, PrefixProjection projection)
        implements Adapter {

    /** The type saved as {@code peft_type}. */
    public static final String TYPE = "PREFIX_TUNING";

    /** An adapter whose prefix is trained (or served) as it is. */
    public PrefixTuningModel(PrefixTuningConfig config, Parameter prefix) {
        this(config, prefix, null);
    }

    /**
     * A fresh adapter as PEFT's {@code PrefixEncoder} makes it: without projection the prefix is
     * {@code torch.nn.Embedding}'s default, each value drawn from N(0, 1); with {@code prefix_projection}, a
     * {@link PrefixProjection#create fresh projection} writes it. Seeded.
     */
    public static PrefixTuningModel create(PrefixTuningConfig config, long seed) {
        int p = config.numVirtualTokens();
        int width = config.width();
        float[] values = new float[p * width];
        if (config.prefixProjection()) {
            PrefixProjection projection = PrefixProjection.create(config, seed);
            projection.encode(values);
            return new PrefixTuningModel(config, new Parameter(PromptLearning.TENSOR, new long[] {p, width}, values),
                    projection);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        return new PrefixTuningModel(config, new Parameter(PromptLearning.TENSOR, new long[] {p, width}, values));
    }

    /**
     * Reads a PEFT prefix tuning directory whose parsed {@code adapter_config.json} is {@code json}; a prefix
     * trained with {@code prefix_projection} loads too, as PEFT saves its projected output.
     *
     * @throws IllegalArgumentException naming the file and key when the config is not one Tailor reads
     * @throws dev.tailor.io.TensorFormatException naming the file, the expected and actual shapes
     */
    public static PrefixTuningModel load(Path dir, JsonNode json) {
        AdapterConfigFields fields = PromptLearning.fields(dir, json, TYPE);
        int tokenDim = PromptLearning.positive(dir, json, "token_dim");
        int layers = PromptLearning.positive(dir, json, "num_layers");
        int numHeads = fields.integer("num_attention_heads", 0, 0);
        int encoderHidden = fields.integer("encoder_hidden_size", 1, tokenDim);
        boolean projection = fields.bool("prefix_projection", false);
        long width = 2L * layers * tokenDim;
        if (width > Integer.MAX_VALUE) {
            throw fields.error("num_layers", layers + " and token_dim " + tokenDim + " give rows of " + width
                    + " values, more than a tensor row can hold");
        }
        Parameter prefix = PromptLearning.read(dir, json, (int) width, "num_layers·2·token_dim");
        PrefixTuningConfig config = new PrefixTuningConfig((int) prefix.shape()[0], tokenDim, layers, numHeads,
                encoderHidden, projection);
        return new PrefixTuningModel(config, prefix);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String describe() {
        return "prefix tuning, " + config.numVirtualTokens() + " virtual tokens on " + config.numLayers() + " layers"
                + (projection != null ? ", trained through an MLP of " + config.encoderHiddenSize() + " hidden units"
                : config.prefixProjection() ? " (trained with prefix projection)" : "");
    }

    /** The prefix, with the projection (if any) that writes it; the prefix holds the projection's current output. */
    @Override
    public AdapterSites sites() {
        encode();
        return new AdapterSites(Map.of(), Map.of(), null, prefix, projection);
    }

    /** Writes the projection's output into the prefix (nothing without a projection). */
    private void encode() {
        if (projection != null) {
            projection.encode(prefix.data());
        }
    }

    /** PEFT's keys for {@code PrefixTuningConfig}. */
    @Override
    public Map<String, Object> config(String baseModel) {
        return savedConfig(config, baseModel);
    }

    private static Map<String, Object> savedConfig(PrefixTuningConfig config, String baseModel) {
        Map<String, Object> json = PromptLearning.configKeys(TYPE, baseModel, config.numVirtualTokens(),
                config.tokenDim(), config.numLayers(), config.numAttentionHeads());
        json.put("encoder_hidden_size", config.encoderHiddenSize());
        json.put("prefix_projection", config.prefixProjection());
        return json;
    }

    /**
     * The shape of what {@link #create} makes for {@code config}: the prefix {@code [P, layers·2·token_dim]}, P keys
     * and values in front of every attention's own; with a projection, the encoder is trained instead (its forward
     * {@code P·(2·token_dim·h + 2·h·width)} FLOPs per pass, its backward twice that) and the prefix it writes is
     * saved.
     */
    public static AdapterShape shape(PrefixTuningConfig config, String baseName) {
        long p = config.numVirtualTokens();
        long width = config.width();
        List<AdapterShape.Tensor> saved = List.of(new AdapterShape.Tensor(PromptLearning.TENSOR, new long[] {p, width}));
        if (!config.prefixProjection()) {
            return new AdapterShape(saved, saved, savedConfig(config, baseName), List.of(), 0, config.numVirtualTokens(),
                    0);
        }
        long d = config.tokenDim();
        long h = config.encoderHiddenSize();
        double encoder = p * (2.0 * d * h + 2.0 * h * width);
        return new AdapterShape(PrefixProjection.shapes(config), saved, savedConfig(config, baseName), List.of(), 0,
                config.numVirtualTokens(), 3 * encoder);
    }

    /**
     * The prefix as {@code prompt_embeddings}: with a projection, its output (PEFT's
     * {@code get_prompt_embedding_to_save}), which PEFT loads into the inference-mode encoder's plain embedding.
     */
    @Override
    public List<Parameter> savedTensors() {
        encode();
        return PromptLearning.saved(prefix);
    }
}
