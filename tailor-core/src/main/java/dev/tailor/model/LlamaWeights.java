package dev.tailor.model;

import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.io.TensorSource;
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
            String p = "model.layers." + i + ".";
            String a = p + "self_attn.";
            boolean bias = config.attentionBias();
            boolean qk = config.qkNorm();
            layers.add(new LayerWeights(
                    b.vector(p + "input_layernorm.weight", d),
                    b.matrix(a + "q_proj.weight", config.qDim(), d),
                    b.matrix(a + "k_proj.weight", config.kvDim(), d),
                    b.matrix(a + "v_proj.weight", config.kvDim(), d),
                    b.matrix(a + "o_proj.weight", d, config.qDim()),
                    bias ? b.vector(a + "q_proj.bias", config.qDim()) : null,
                    bias ? b.vector(a + "k_proj.bias", config.kvDim()) : null,
                    bias ? b.vector(a + "v_proj.bias", config.kvDim()) : null,
                    qk ? b.vector(a + "q_norm.weight", config.headDim()) : null,
                    qk ? b.vector(a + "k_norm.weight", config.headDim()) : null,
                    b.vector(p + "post_attention_layernorm.weight", d),
                    b.matrix(p + "mlp.gate_proj.weight", config.intermediateSize(), d),
                    b.matrix(p + "mlp.up_proj.weight", config.intermediateSize(), d),
                    b.matrix(p + "mlp.down_proj.weight", d, config.intermediateSize())));
        }
        float[] finalNorm = b.vector("model.norm.weight", d);
        WeightMatrix lmHead = config.tieWordEmbeddings() && !source.contains("lm_head.weight")
                ? embed : b.matrix("lm_head.weight", config.vocabSize(), d);
        return new LlamaWeights(embed, List.copyOf(layers), finalNorm, lmHead);
    }

    /** Looks tensors up and checks them against the expected shapes. */
    private record Binder(ModelConfig config, TensorSource source) {

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
