package dev.tailor.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Attention} over the {@link KvCache}'s transposed keys: every row against a double-precision reference of
 * causal grouped-query attention, and a row's output bit for bit the same whether it is attended alone (a decoding
 * row, its query heads padded to a whole tile) or inside a block of prompt rows.
 */
class AttentionTest {

    /** Heads, KV heads, head dimension and positions: groups of 3 and 4, head dims on and off the vector width. */
    @ParameterizedTest
    @CsvSource({"9, 3, 64, 70", "8, 2, 16, 33", "6, 2, 12, 41", "4, 4, 20, 17"})
    void matchesTheReferenceAndARowAloneMatchesItInABlock(int heads, int kvHeads, int headDim, int n) {
        ModelConfig c = new ModelConfig("llama", heads * headDim, 8, 1, heads, kvHeads, headDim, 1e-5, 1e4, null, 10,
                n, false, false, false, 1, List.of(2));
        SplittableRandom rnd = new SplittableRandom(heads * 31L + headDim);
        float[] q = random(rnd, n * c.qDim());
        float[] k = random(rnd, n * c.kvDim());
        float[] v = random(rnd, n * c.kvDim());

        KvCache whole = new KvCache(c, n + 5);
        whole.store(0, 0, n, k, v);
        float[] block = new float[n * c.qDim()];
        Attention.causal(c, q, new KvCache[] {whole}, new int[] {0}, new int[] {0}, new int[] {n}, 0, block);

        float[] expected = reference(c, q, k, v, n);
        for (int i = 0; i < block.length; i++) {
            assertEquals(expected[i], block[i], 1e-5 * (1 + Math.abs(expected[i])), "output " + i);
        }

        KvCache stepped = new KvCache(c, n + 5);
        stepped.store(0, 0, n - 1, k, v);
        stepped.store(0, n - 1, 1, k, v, n - 1);
        float[] alone = new float[c.qDim()];
        float[] last = Arrays.copyOfRange(q, (n - 1) * c.qDim(), n * c.qDim());
        Attention.causal(c, last, new KvCache[] {stepped}, new int[] {0}, new int[] {n - 1}, new int[] {1}, 0,
                alone);
        assertArrayEquals(Arrays.copyOfRange(block, (n - 1) * c.qDim(), n * c.qDim()), alone,
                "the last row alone against its block");
    }

    /** Causal attention in doubles: row t, head h over positions [0, t] of KV head h / group. */
    private static float[] reference(ModelConfig c, float[] q, float[] k, float[] v, int n) {
        int hd = c.headDim();
        int group = c.numHeads() / c.numKvHeads();
        float[] out = new float[n * c.qDim()];
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < c.numHeads(); h++) {
                int kvh = h / group;
                double[] p = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s <= t; s++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) {
                        dot += (double) q[t * c.qDim() + h * hd + d] * k[s * c.kvDim() + kvh * hd + d];
                    }
                    p[s] = dot / Math.sqrt(hd);
                    max = Math.max(max, p[s]);
                }
                double sum = 0;
                for (int s = 0; s <= t; s++) {
                    p[s] = Math.exp(p[s] - max);
                    sum += p[s];
                }
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (int s = 0; s <= t; s++) {
                        o += p[s] / sum * v[s * c.kvDim() + kvh * hd + d];
                    }
                    out[t * c.qDim() + h * hd + d] = (float) o;
                }
            }
        }
        return out;
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }
}
