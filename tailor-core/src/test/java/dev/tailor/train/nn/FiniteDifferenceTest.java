package dev.tailor.train.nn;

import dev.tailor.adapt.AdapterChecks;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Analytic gradients against central finite differences on random tiny models of each family variant, over a
 * sequence packing two examples (so the segment mask and position restarts are exercised).
 */
class FiniteDifferenceTest {

    static ModelConfig config(String type, boolean tied) {
        return new ModelConfig(type, 16, 24, 2, 4, 2, type.equals("qwen3") ? 6 : 4, 1e-5, 10000.0, null, 50, 64,
                tied, type.equals("qwen2"), type.equals("qwen3"), 1, List.of(2));
    }

    static LlamaWeights randomWeights(ModelConfig c, SplittableRandom rnd) {
        int d = c.hiddenSize();
        WeightMatrix embed = matrix(rnd, c.vocabSize(), d, 0.5);
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            boolean bias = c.attentionBias();
            boolean qk = c.qkNorm();
            layers.add(new LayerWeights(vector(rnd, d), matrix(rnd, c.qDim(), d, 0.4), matrix(rnd, c.kvDim(), d, 0.4),
                    matrix(rnd, c.kvDim(), d, 0.4), matrix(rnd, d, c.qDim(), 0.4),
                    bias ? vector(rnd, c.qDim()) : null, bias ? vector(rnd, c.kvDim()) : null,
                    bias ? vector(rnd, c.kvDim()) : null, qk ? vector(rnd, c.headDim()) : null,
                    qk ? vector(rnd, c.headDim()) : null, vector(rnd, d),
                    matrix(rnd, c.intermediateSize(), d, 0.4), matrix(rnd, c.intermediateSize(), d, 0.4),
                    matrix(rnd, d, c.intermediateSize(), 0.4)));
        }
        WeightMatrix head = c.tieWordEmbeddings() ? embed : matrix(rnd, c.vocabSize(), d, 0.5);
        return new LlamaWeights(embed, layers, vector(rnd, d), head);
    }

    private static WeightMatrix matrix(SplittableRandom rnd, int rows, int cols, double scale) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble(-1, 1) * scale);
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

    /** Two examples of 6 and 5 tokens packed into 12 (one padding token). */
    static PackedSequence packed(SplittableRandom rnd) {
        int[] tokens = rnd.ints(12, 3, 50).toArray();
        int[] labels = tokens.clone();
        labels[0] = CausalLmLoss.IGNORE_INDEX;
        labels[6] = CausalLmLoss.IGNORE_INDEX;
        labels[11] = CausalLmLoss.IGNORE_INDEX;
        labels[2] = CausalLmLoss.IGNORE_INDEX;
        int[] positions = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 0};
        int[] starts = {0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 11};
        return new PackedSequence(tokens, labels, positions, starts);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama-tied", "qwen2", "qwen3"})
    void gradientsMatchFiniteDifferences(String variant) {
        String type = variant.replace("-tied", "");
        ModelConfig c = config(type, variant.endsWith("tied"));
        SplittableRandom rnd = new SplittableRandom(variant.hashCode());
        TrainableLlama model = TrainableLlama.create(c, randomWeights(c, rnd), name -> true);
        PackedSequence seq = packed(rnd);
        model.forwardBackward(seq, 1f);
        int checked = 0;
        for (Parameter p : model.parameters()) {
            for (int probe = 0; probe < 3; probe++) {
                int i = rnd.nextInt(p.size());
                double numeric = AdapterChecks.centralDifference(model, seq, p, i);
                double analytic = p.grad()[i];
                assertEquals(numeric, analytic, 3e-3 + 3e-2 * Math.abs(numeric), p.name() + "[" + i + "]");
                checked++;
            }
        }
        assertTrue(checked >= 3 * 20, "probed " + checked);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void partialTrainingStopsAtTheLowestTrainableLayerWithTheSameGradients(boolean checkpointing) {
        ModelConfig c = config("llama", false);
        LlamaWeights w = randomWeights(c, new SplittableRandom(7));
        PackedSequence seq = packed(new SplittableRandom(8));
        TrainableLlama full = TrainableLlama.create(c, w, name -> true);
        TrainableLlama partial = TrainableLlama.create(c, w,
                name -> name.startsWith("model.layers.1.mlp") || name.equals("model.norm.weight"));
        partial.setGradientCheckpointing(checkpointing);
        assertEquals(1, partial.stopLayer());
        assertEquals(0, full.stopLayer());
        double lossFull = full.forwardBackward(seq, 1f).nllSum();
        double lossPartial = partial.forwardBackward(seq, 1f).nllSum();
        assertEquals(lossFull, lossPartial, 1e-9);
        assertEquals(4, partial.parameters().size());
        for (Parameter p : partial.parameters()) {
            Parameter same = full.parameters().stream().filter(q -> q.name().equals(p.name())).findFirst().orElseThrow();
            for (int i = 0; i < p.size(); i++) {
                assertEquals(same.grad()[i], p.grad()[i], 1e-6, p.name());
            }
        }
    }
}
