package dev.tailor.model;

import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.io.TensorSource;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Site;
import dev.tailor.model.site.SublayerSite;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import dev.tailor.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * All weights of a Llama-family model, bound by their Hugging Face names and checked against the config.
 *
 * @param embed     {@code model.embed_tokens.weight} [vocab, hidden]
 * @param layers    the decoder blocks
 * @param finalNorm {@code model.norm.weight} [hidden]
 * @param lmHead    {@code lm_head.weight} [vocab, hidden], or the embedding when tied
 */
public record LlamaWeights(WeightMatrix embed, List<LayerWeights> layers, float[] finalNorm, WeightMatrix lmHead) {

    /**
     * Binds the tensors of {@code source} for {@code config}.
     *
     * @throws TensorFormatException naming the file and tensor when one is missing or its shape or type
     *                               contradicts the config
     */
    public static LlamaWeights bind(ModelConfig config, TensorSource source) {
        Binder b = new Binder(config, source);
        int d = config.hiddenSize();
        WeightMatrix embed = b.matrix("model.embed_tokens.weight", config.vocabSize(), d);
        List<LayerWeights> layers = new ArrayList<>(config.numLayers());
        for (int i = 0; i < config.numLayers(); i++) {
            String p = Site.block(i) + ".";
            String a = SublayerSite.SELF_ATTN.module(i) + ".";
            boolean bias = config.attentionBias();
            boolean qk = config.qkNorm();
            layers.add(new LayerWeights(
                    b.vector(p + "input_layernorm.weight", d),
                    b.linear(i, LinearSite.Q_PROJ),
                    b.linear(i, LinearSite.K_PROJ),
                    b.linear(i, LinearSite.V_PROJ),
                    b.linear(i, LinearSite.O_PROJ),
                    bias ? b.bias(i, LinearSite.Q_PROJ) : null,
                    bias ? b.bias(i, LinearSite.K_PROJ) : null,
                    bias ? b.bias(i, LinearSite.V_PROJ) : null,
                    qk ? b.vector(a + "q_norm.weight", config.headDim()) : null,
                    qk ? b.vector(a + "k_norm.weight", config.headDim()) : null,
                    b.vector(p + "post_attention_layernorm.weight", d),
                    b.linear(i, LinearSite.GATE_PROJ),
                    b.linear(i, LinearSite.UP_PROJ),
                    b.linear(i, LinearSite.DOWN_PROJ)));
        }
        float[] finalNorm = b.vector("model.norm.weight", d);
        WeightMatrix lmHead = config.tieWordEmbeddings() && !source.contains("lm_head.weight")
                ? embed : b.matrix("lm_head.weight", config.vocabSize(), d);
        return new LlamaWeights(embed, List.copyOf(layers), finalNorm, lmHead);
    }

    /** Looks tensors up and checks them against the expected shapes. */
    private record Binder(ModelConfig config, TensorSource source) {

        /** The weight of linear {@code site} in block {@code layer}, {@code [out, in]}. */
        WeightMatrix linear(int layer, LinearSite site) {
            int[] shape = config.shape(site);
            return matrix(site.module(layer) + ".weight", shape[0], shape[1]);
        }

        /** The bias of linear {@code site} in block {@code layer}, {@code [out]}. */
        float[] bias(int layer, LinearSite site) {
            return vector(site.module(layer) + ".bias", config.shape(site)[0]);
        }

        WeightMatrix matrix(String name, int rows, int cols) {
            TensorInfo info = checked(name, rows, cols);
            return new WeightMatrix(source.data(name), info.dtype(), rows, cols);
        }

        float[] vector(String name, int length) {
            TensorInfo info = checked(name, length);
            var data = source.data(name);
            float[] out = new float[length];
            for (int i = 0; i < length; i++) {
                out[i] = Numerics.load(data, info.dtype(), i);
            }
            return out;
        }

        private TensorInfo checked(String name, long... shape) {
            if (!source.contains(name)) {
                throw new TensorFormatException(source.file(name) + ": missing tensor " + name
                        + " (expected by config.json for model_type " + config.modelType() + ")");
            }
            TensorInfo info = source.info(name);
            if (!Arrays.equals(info.shape(), shape)) {
                throw new TensorFormatException(source.file(name) + ": tensor " + name + " has shape "
                        + info.shapeString() + " but config.json implies " + Arrays.toString(shape));
            }
            if (!info.dtype().isWeightType()) {
                throw new TensorFormatException(source.file(name) + ": tensor " + name + " has dtype "
                        + info.dtype() + "; weights must be " + DType.F32 + ", " + DType.F16 + " or " + DType.BF16);
            }
            return info;
        }
    }
}
