package dev.tailor.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.tensor.WeightMatrix;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link FusedHead} against the definition in double precision: the loss {@code Σ (logsumexp(x·Eᵀ) − l_target)} and
 * {@code dX = scale·(softmax − onehot)·E}, for chunkings that split the vocabulary unevenly (so the running maximum
 * grows from chunk to chunk and the accumulated gradient is rescaled), with a row that carries no loss.
 */
class FusedHeadTest {
    private static final int K = 6;
    private static final int D = 24;
    private static final int VOCAB = 50;

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 49, 50, 4096})
    void matchesTheDefinitionForEveryChunking(int chunkRows) {
        SplittableRandom rnd = new SplittableRandom(11);
        float[] x = random(rnd, K * D, 1.5);
        float[] e = random(rnd, VOCAB * D, 1.5);
        int[] targets = {3, 49, CausalLmLoss.IGNORE_INDEX, 0, 27, 49};
        float scale = 0.25f;
        float[] dx = new float[K * D];
        CausalLmLoss.Total total = FusedHead.lossAndInputGrad(x, K, WeightMatrix.of(e, VOCAB, D), targets, scale, dx,
                chunkRows);

        double expectedLoss = 0;
        for (int i = 0; i < K; i++) {
            double[] logits = new double[VOCAB];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < VOCAB; j++) {
                for (int c = 0; c < D; c++) {
                    logits[j] += (double) x[i * D + c] * e[j * D + c];
                }
                max = Math.max(max, logits[j]);
            }
            double sum = 0;
            for (int j = 0; j < VOCAB; j++) {
                sum += Math.exp(logits[j] - max);
            }
            int t = targets[i];
            for (int c = 0; c < D; c++) {
                double g = 0;
                if (t != CausalLmLoss.IGNORE_INDEX) {
                    for (int j = 0; j < VOCAB; j++) {
                        double p = Math.exp(logits[j] - max) / sum - (j == t ? 1 : 0);
                        g += scale * p * e[j * D + c];
                    }
                }
                assertEquals(g, dx[i * D + c], 1e-5, "dX[" + i + ", " + c + "] with chunks of " + chunkRows);
            }
            if (t != CausalLmLoss.IGNORE_INDEX) {
                expectedLoss += Math.log(sum) + max - logits[t];
            }
        }
        assertEquals(5, total.tokens());
        assertEquals(expectedLoss, total.nllSum(), 1e-5 * expectedLoss, "loss with chunks of " + chunkRows);
    }

    @Test
    void lossOnlyWithoutAGradientArray() {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] x = random(rnd, K * D, 1);
        WeightMatrix e = WeightMatrix.of(random(rnd, VOCAB * D, 1), VOCAB, D);
        int[] targets = {1, 2, 3, 4, 5, 6};
        float[] dx = new float[K * D];
        double withGradient = FusedHead.lossAndInputGrad(x, K, e, targets, 1f, dx, 8).nllSum();
        double lossOnly = FusedHead.lossAndInputGrad(x, K, e, targets, 1f, null, 8).nllSum();
        assertEquals(withGradient, lossOnly, 0.0);
    }

    @Test
    void namesATargetOutsideTheVocabulary() {
        float[] x = new float[K * D];
        WeightMatrix e = WeightMatrix.of(new float[VOCAB * D], VOCAB, D);
        int[] targets = {1, 2, 50, 4, 5, 6};
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> FusedHead.lossAndInputGrad(x, K, e, targets, 1f, null));
        assertTrue(ex.getMessage().contains("label 50 is outside the vocabulary [0, 50)"), ex.getMessage());
    }

    private static float[] random(SplittableRandom rnd, int n, double range) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-range, range);
        }
        return a;
    }
}
