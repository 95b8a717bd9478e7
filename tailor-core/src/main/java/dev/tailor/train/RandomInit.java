package dev.tailor.train;

import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Weights for training from scratch, initialised as transformers' {@code LlamaPreTrainedModel._init_weights}:
 * every matrix ~ N(0, initializer_range²), biases zero, norms one; seeded.
 */
public final class RandomInit {
    /** transformers' default {@code initializer_range}. */
    public static final double STD = 0.02;

    private RandomInit() {
    }

    /** Fresh heap F32 weights for {@code config}. */
    public static LlamaWeights weights(ModelConfig c, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int d = c.hiddenSize();
        WeightMatrix embed = matrix(rnd, c.vocabSize(), d);
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            boolean bias = c.attentionBias();
            boolean qk = c.qkNorm();
            layers.add(new LayerWeights(ones(d), matrix(rnd, c.qDim(), d), matrix(rnd, c.kvDim(), d),
                    matrix(rnd, c.kvDim(), d), matrix(rnd, d, c.qDim()),
                    bias ? new float[c.qDim()] : null, bias ? new float[c.kvDim()] : null,
                    bias ? new float[c.kvDim()] : null, qk ? ones(c.headDim()) : null, qk ? ones(c.headDim()) : null,
                    ones(d), matrix(rnd, c.intermediateSize(), d), matrix(rnd, c.intermediateSize(), d),
                    matrix(rnd, d, c.intermediateSize())));
        }
        WeightMatrix head = c.tieWordEmbeddings() ? embed : matrix(rnd, c.vocabSize(), d);
        return new LlamaWeights(embed, List.copyOf(layers), ones(d), head);
    }

    private static WeightMatrix matrix(SplittableRandom rnd, int rows, int cols) {
        float[] v = new float[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < v.length; i++) {
            double u1 = rnd.nextDouble();
            double u2 = rnd.nextDouble();
            v[i] = (float) (STD * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return WeightMatrix.of(v, rows, cols);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }
}
