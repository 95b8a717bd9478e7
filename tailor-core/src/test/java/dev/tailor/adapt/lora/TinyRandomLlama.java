package dev.tailor.adapt.lora;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A random two-layer model of hidden size 16 (qwen2: with q/k/v biases) and a packed sequence for it; {@link #weights}
 * makes random weights for any configuration.
 */
public final class TinyRandomLlama {
    static final ModelConfig QWEN2 = new ModelConfig("qwen2", 16, 24, 2, 4, 2, 4, 1e-5, 10000.0, null, 50, 64,
            false, true, false, 1, List.of(2));

    private TinyRandomLlama() {
    }

    /** Random weights for {@code c}: matrices uniform in ±0.4, norms in [0.5, 1.5), biases where it has them. */
    public static LlamaWeights weights(ModelConfig c, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int d = c.hiddenSize();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            boolean bias = c.attentionBias();
            layers.add(new LayerWeights(vector(rnd, d), matrix(rnd, c.qDim(), d), matrix(rnd, c.kvDim(), d),
                    matrix(rnd, c.kvDim(), d), matrix(rnd, d, c.qDim()),
                    bias ? vector(rnd, c.qDim()) : null, bias ? vector(rnd, c.kvDim()) : null,
                    bias ? vector(rnd, c.kvDim()) : null, null, null, vector(rnd, d),
                    matrix(rnd, c.intermediateSize(), d), matrix(rnd, c.intermediateSize(), d),
                    matrix(rnd, d, c.intermediateSize())));
        }
        return new LlamaWeights(matrix(rnd, c.vocabSize(), d), layers, vector(rnd, d),
                matrix(rnd, c.vocabSize(), d));
    }

    /** Two examples of 6 and 5 tokens packed into 12. */
    static PackedSequence packed(long seed) {
        int[] tokens = new SplittableRandom(seed).ints(12, 3, 50).toArray();
        int[] labels = tokens.clone();
        labels[0] = CausalLmLoss.IGNORE_INDEX;
        labels[6] = CausalLmLoss.IGNORE_INDEX;
        labels[11] = CausalLmLoss.IGNORE_INDEX;
        int[] positions = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 0};
        int[] starts = {0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 11};
        return new PackedSequence(tokens, labels, positions, starts);
    }

    /** Adds uniform noise in ±{@code scale} to every value of the parameters. */
    static void perturb(List<Parameter> params, double scale, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (Parameter p : params) {
            for (int i = 0; i < p.size(); i++) {
                p.data()[i] += (float) rnd.nextDouble(-scale, scale);
            }
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static WeightMatrix matrix(SplittableRandom rnd, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble(-1, 1) * 0.4);
        }
        return WeightMatrix.of(v, rows, cols);
    }

    private static float[] vector(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(0.5, 1.5);
        }
        return v;
    }
}
