package dev.tailor.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The blocked attention against a direct double-precision evaluation of its definition, over lengths that cut the
 * query blocks unevenly, packed segments and a prefix: outputs and every gradient (queries, keys, values, prefix).
 * One instance reused over sequences of other lengths gives the bits a fresh one does.
 */
class SegmentAttentionTest {
    private static final int HEADS = 6;
    private static final int KV_HEADS = 2;
    private static final int HD = 8;

    @ParameterizedTest(name = "n={0} segments={1} prefix={2}")
    @CsvSource({"1,1,0", "7,1,0", "64,1,0", "65,2,0", "130,3,0", "200,1,5", "129,4,3"})
    void matchesTheDefinition(int n, int segments, int pre) {
        SplittableRandom random = new SplittableRandom(n * 31L + segments * 7L + pre);
        float[] q = randoms(random, n * HEADS * HD);
        float[] k = randoms(random, n * KV_HEADS * HD);
        float[] v = randoms(random, n * KV_HEADS * HD);
        float[] dOut = randoms(random, n * HEADS * HD);
        int width = 2 * KV_HEADS * HD + 3;
        float[] prefixData = randoms(random, pre * width);
        int[] starts = segmentStarts(n, segments);
        SegmentAttention.Prefix prefix = pre == 0 ? null
                : new SegmentAttention.Prefix(prefixData, new float[pre * width], width, 1, 2 + KV_HEADS * HD, pre);
        SegmentAttention attention = new SegmentAttention(HEADS, KV_HEADS, HD);
        float[] out = new float[n * HEADS * HD];
        attention.forward(q, k, v, prefix, starts, n, out);
        float[] dq = new float[q.length];
        float[] dk = new float[k.length];
        float[] dv = new float[v.length];
        attention.backward(dOut, q, k, v, prefix, starts, n, dq, dk, dv);

        Reference ref = new Reference(q, k, v, dOut, prefix, starts, n);
        assertClose(ref.out, out, "out");
        assertClose(ref.dq, dq, "dq");
        assertClose(ref.dk, dk, "dk");
        assertClose(ref.dv, dv, "dv");
        if (prefix != null) {
            assertClose(ref.dPrefix, prefix.grad(), "prefix grad");
        }
    }

    @Test
    void reusedInstanceGivesAFreshOnesBits() {
        SegmentAttention reused = new SegmentAttention(HEADS, KV_HEADS, HD);
        int[][] runs = {{130, 3, 0}, {7, 1, 3}, {65, 2, 0}, {130, 3, 0}};
        for (int[] run : runs) {
            float[][] again = run(reused, run[0], run[1], run[2]);
            float[][] fresh = run(new SegmentAttention(HEADS, KV_HEADS, HD), run[0], run[1], run[2]);
            for (int i = 0; i < fresh.length; i++) {
                assertArrayEquals(fresh[i], again[i], "n=" + run[0] + " prefix=" + run[2] + " result " + i);
            }
        }
    }

    /**
     * The backward computes the probabilities again from Q and K, so it needs nothing the forward left behind: on a
     * fresh instance, without a forward, its gradients have the bits they have after one.
     */
    @Test
    void backwardNeedsNoForward() {
        int[][] runs = {{130, 3, 0}, {7, 1, 3}, {200, 1, 5}};
        for (int[] run : runs) {
            float[][] after = run(new SegmentAttention(HEADS, KV_HEADS, HD), run[0], run[1], run[2]);
            float[][] alone = run(new SegmentAttention(HEADS, KV_HEADS, HD), run[0], run[1], run[2], false);
            for (int i = 1; i < after.length; i++) {
                assertArrayEquals(after[i], alone[i], "n=" + run[0] + " prefix=" + run[2] + " gradient " + i);
            }
        }
    }

    /** Forward and backward on random inputs seeded by the shape: out, dq, dk, dv and the prefix's gradient. */
    private static float[][] run(SegmentAttention attention, int n, int segments, int pre) {
        return run(attention, n, segments, pre, true);
    }

    /** {@link #run(SegmentAttention, int, int, int)}, the forward left out when not {@code forward}. */
    private static float[][] run(SegmentAttention attention, int n, int segments, int pre, boolean forward) {
        SplittableRandom random = new SplittableRandom(n * 131L + pre);
        float[] q = randoms(random, n * HEADS * HD);
        float[] k = randoms(random, n * KV_HEADS * HD);
        float[] v = randoms(random, n * KV_HEADS * HD);
        float[] dOut = randoms(random, n * HEADS * HD);
        int width = 2 * KV_HEADS * HD + 3;
        SegmentAttention.Prefix prefix = pre == 0 ? null : new SegmentAttention.Prefix(randoms(random, pre * width),
                new float[pre * width], width, 1, 2 + KV_HEADS * HD, pre);
        float[] out = new float[n * HEADS * HD];
        int[] starts = segmentStarts(n, segments);
        if (forward) {
            attention.forward(q, k, v, prefix, starts, n, out);
        }
        float[] dq = new float[q.length];
        float[] dk = new float[k.length];
        float[] dv = new float[v.length];
        attention.backward(dOut, q, k, v, prefix, starts, n, dq, dk, dv);
        return new float[][] {out, dq, dk, dv, prefix == null ? new float[0] : prefix.grad()};
    }

    /** Segments of roughly equal length; token t's segment starts at {@code starts[t]}. */
    private static int[] segmentStarts(int n, int segments) {
        int[] starts = new int[n];
        int length = Math.max(1, n / segments);
        for (int t = 0; t < n; t++) {
            starts[t] = Math.min(t / length, segments - 1) * length;
        }
        return starts;
    }

    private static float[] randoms(SplittableRandom random, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) random.nextDouble(-2, 2);
        }
        return x;
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 2e-5 * (1 + Math.abs(expected[i])), what + "[" + i + "]");
        }
    }

    /** Attention and its gradients evaluated from the definition in double precision, one key at a time. */
    private static final class Reference {
        final double[] out;
        final double[] dq;
        final double[] dk;
        final double[] dv;
        final double[] dPrefix;

        Reference(float[] q, float[] k, float[] v, float[] dOut, SegmentAttention.Prefix prefix, int[] starts, int n) {
            int pre = prefix == null ? 0 : prefix.length();
            out = new double[q.length];
            dq = new double[q.length];
            dk = new double[k.length];
            dv = new double[v.length];
            dPrefix = new double[prefix == null ? 0 : prefix.grad().length];
            double scale = 1 / Math.sqrt(HD);
            for (int h = 0; h < HEADS; h++) {
                int g = h / (HEADS / KV_HEADS);
                for (int t = 0; t < n; t++) {
                    int keys = pre + t - starts[t] + 1;
                    double[] s = new double[keys];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < keys; j++) {
                        for (int i = 0; i < HD; i++) {
                            s[j] += q[(t * HEADS + h) * HD + i] * key(k, prefix, starts[t], g, j, i, true);
                        }
                        s[j] *= scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < keys; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    double[] dp = new double[keys];
                    double dot = 0;
                    for (int j = 0; j < keys; j++) {
                        s[j] /= sum;
                        for (int i = 0; i < HD; i++) {
                            out[(t * HEADS + h) * HD + i] += s[j] * key(v, prefix, starts[t], g, j, i, false);
                            dp[j] += dOut[(t * HEADS + h) * HD + i] * key(v, prefix, starts[t], g, j, i, false);
                        }
                        dot += s[j] * dp[j];
                    }
                    for (int j = 0; j < keys; j++) {
                        double ds = s[j] * (dp[j] - dot) * scale;
                        for (int i = 0; i < HD; i++) {
                            dq[(t * HEADS + h) * HD + i] += ds * key(k, prefix, starts[t], g, j, i, true);
                            double dKey = ds * q[(t * HEADS + h) * HD + i];
                            double dValue = s[j] * dOut[(t * HEADS + h) * HD + i];
                            if (j < pre) {
                                dPrefix[j * prefix.width() + prefix.keyOffset() + g * HD + i] += dKey;
                                dPrefix[j * prefix.width() + prefix.valueOffset() + g * HD + i] += dValue;
                            } else {
                                int pos = starts[t] + j - pre;
                                dk[(pos * KV_HEADS + g) * HD + i] += dKey;
                                dv[(pos * KV_HEADS + g) * HD + i] += dValue;
                            }
                        }
                    }
                }
            }
        }

        /** Component i of the j-th key (or value) token t sees: the prefix's first, then its segment's. */
        private static double key(float[] x, SegmentAttention.Prefix prefix, int start, int g, int j, int i,
                                  boolean isKey) {
            int pre = prefix == null ? 0 : prefix.length();
            if (j < pre) {
                int offset = isKey ? prefix.keyOffset() : prefix.valueOffset();
                return prefix.data()[j * prefix.width() + offset + g * HD + i];
            }
            return x[((start + j - pre) * KV_HEADS + g) * HD + i];
        }
    }
}
