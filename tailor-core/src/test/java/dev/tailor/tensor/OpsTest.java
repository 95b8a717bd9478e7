package dev.tailor.tensor;

import dev.tailor.model.RopeTables;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Differential tests of {@link Ops} against its scalar twins in {@link ScalarKernels}. */
class OpsTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 17, 64, 576, 1023})
    void rmsNormMatches(int dim) {
        SplittableRandom rnd = new SplittableRandom(dim);
        float[] x = withPadding(rnd, dim, 3);
        float[] weight = MatMulTest.randoms(rnd, dim);
        float[] expected = new float[dim + 2];
        float[] actual = new float[dim + 2];
        ScalarKernels.rmsNorm(x, 3, weight, 1e-5f, expected, 2, dim);
        Ops.rmsNorm(x, 3, weight, 1e-5f, actual, 2, dim);
        assertClose(expected, actual, 2e-6f, "rmsNorm");
        double ss = 0;
        for (int i = 0; i < dim; i++) {
            ss += (double) x[3 + i] * x[3 + i];
        }
        double inv = 1 / Math.sqrt(ss / dim + 1e-5);
        assertEquals(x[3] * inv * weight[0], actual[2], 1e-5 * Math.abs(x[3] * inv * weight[0]) + 1e-7);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 17, 1023})
    void rmsNormReturnsTheRowsRstd(int dim) {
        SplittableRandom rnd = new SplittableRandom(dim + 11);
        float[] x = withPadding(rnd, dim, 1);
        float[] weight = MatMulTest.randoms(rnd, dim);
        float expected = ScalarKernels.rmsNorm(x, 1, weight, 1e-6f, new float[dim + 1], 1, dim);
        float actual = Ops.rmsNorm(x, 1, weight, 1e-6f, new float[dim + 1], 1, dim);
        assertEquals(expected, actual, 2e-6f * expected, "rstd");
        double ss = 0;
        for (int i = 0; i < dim; i++) {
            ss += (double) x[1 + i] * x[1 + i];
        }
        assertEquals(1 / Math.sqrt(ss / dim + 1e-6), actual, 1e-5 * actual);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 6, 34, 64, 128})
    void ropeMatches(int headDim) {
        SplittableRandom rnd = new SplittableRandom(headDim);
        RopeTables t = RopeTables.build(RopeTables.inverseFrequencies(headDim, 10000, null), 50);
        int nHeads = 3;
        float[] expected = withPadding(rnd, nHeads * headDim, 5);
        float[] actual = expected.clone();
        ScalarKernels.rope(expected, 5, nHeads, headDim, 37, t.cos(), t.sin());
        Ops.rope(actual, 5, nHeads, headDim, 37, t.cos(), t.sin());
        assertClose(expected, actual, 0f, "rope");
        float[] unrotated = withPadding(new SplittableRandom(headDim), nHeads * headDim, 5);
        float[] atZero = unrotated.clone();
        Ops.rope(atZero, 5, nHeads, headDim, 0, t.cos(), t.sin());
        assertClose(unrotated, atZero, 0f, "rope at position 0 is the identity");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 17, 64, 1023})
    void softmaxMatches(int len) {
        SplittableRandom rnd = new SplittableRandom(len);
        float[] expected = withPadding(rnd, len, 4);
        for (int i = 0; i < expected.length; i++) {
            expected[i] *= 8;
        }
        float[] actual = expected.clone();
        ScalarKernels.softmax(expected, 4, len);
        Ops.softmax(actual, 4, len);
        assertClose(expected, actual, 1e-6f, "softmax");
        double sum = 0;
        for (int i = 0; i < len; i++) {
            sum += actual[4 + i];
        }
        assertEquals(1.0, sum, 1e-5);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 17, 64, 1536})
    void siluMulMatches(int len) {
        SplittableRandom rnd = new SplittableRandom(len);
        float[] gate = withPadding(rnd, len, 2);
        for (int i = 0; i < gate.length; i++) {
            gate[i] *= 6;
        }
        float[] up = withPadding(rnd, len, 2);
        float[] expected = new float[len + 2];
        float[] actual = new float[len + 2];
        ScalarKernels.siluMul(gate, up, expected, 2, len);
        Ops.siluMul(gate, up, actual, 2, len);
        assertClose(expected, actual, 1e-6f, "siluMul");
        double g = gate[2];
        assertEquals(g / (1 + Math.exp(-g)) * up[2], actual[2], 1e-6 * Math.abs(g * up[2]) + 1e-7);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 17, 1023})
    void addBiasMatches(int width) {
        SplittableRandom rnd = new SplittableRandom(width + 3);
        int rows = 5;
        float[] bias = MatMulTest.randoms(rnd, width);
        float[] expected = MatMulTest.randoms(rnd, rows * width);
        float[] actual = expected.clone();
        ScalarKernels.addBias(expected, rows, bias);
        Ops.addBias(actual, rows, bias);
        assertClose(expected, actual, 0f, "addBias");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 17, 4096, 100_003})
    void addSumsElementWiseIntoEitherOperandOrAThirdArray(int len) {
        SplittableRandom rnd = new SplittableRandom(len);
        float[] a = new float[len];
        float[] b = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) rnd.nextDouble(-5, 5);
            b[i] = (float) rnd.nextDouble(-5, 5);
        }
        float[] out = new float[len];
        Ops.add(a, b, out, len);
        float[] inPlace = a.clone();
        Ops.add(inPlace, b, inPlace, len);
        for (int i = 0; i < len; i++) {
            assertEquals(a[i] + b[i], out[i], "element " + i);
            assertEquals(a[i] + b[i], inPlace[i], "element " + i + " in place");
        }
    }

    @Test
    void siluMulSplitAcrossThreadsGivesTheSameBitsAsSmallSerialCalls() {
        int len = 100_003;
        SplittableRandom rnd = new SplittableRandom(5);
        float[] gate = withPadding(rnd, len, 1);
        float[] up = withPadding(rnd, len, 1);
        float[] whole = new float[len + 1];
        float[] pieces = new float[len + 1];
        Ops.siluMul(gate, up, whole, 1, len);
        int piece = 1024;
        for (int off = 0; off < len; off += piece) {
            Ops.siluMul(gate, up, pieces, 1 + off, Math.min(piece, len - off));
        }
        for (int i = 0; i <= len; i++) {
            assertEquals(Float.floatToIntBits(pieces[i]), Float.floatToIntBits(whole[i]), "element " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 17, 64, 1023})
    void dotAndAxpyMatch(int len) {
        SplittableRandom rnd = new SplittableRandom(len);
        float[] a = withPadding(rnd, len, 1);
        float[] b = withPadding(rnd, len, 3);
        double abs = 0;
        for (int i = 0; i < len; i++) {
            abs += Math.abs(a[1 + i] * b[3 + i]);
        }
        assertEquals(ScalarKernels.dot(a, 1, b, 3, len), Ops.dot(a, 1, b, 3, len), 1e-6 * abs);
        float[] expected = b.clone();
        float[] actual = b.clone();
        ScalarKernels.axpy(0.37f, a, 1, expected, 3, len);
        Ops.axpy(0.37f, a, 1, actual, 3, len);
        assertClose(expected, actual, 1e-6f, "axpy");
    }

    /** {@code len} random floats after {@code pad} leading ones, so kernels must honour offsets. */
    private static float[] withPadding(SplittableRandom rnd, int len, int pad) {
        return MatMulTest.randoms(rnd, pad + len + 1);
    }

    private static void assertClose(float[] expected, float[] actual, float rel, String what) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            float tol = rel * Math.max(1f, Math.abs(e));
            assertTrue(Math.abs(e - a) <= tol, what + "[" + i + "] = " + a + ", scalar twin " + e);
        }
    }
}
