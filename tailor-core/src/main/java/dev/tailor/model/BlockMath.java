package dev.tailor.model;

/** Element-wise math of a decoder block. */
final class BlockMath {
    private BlockMath() {
    }

    static void rmsNorm(float[] x, int xOff, float[] w, float eps, float[] out, int outOff, int dim) {
        float ss = 0f;
        for (int i = 0; i < dim; i++) {
            ss += x[xOff + i] * x[xOff + i];
        }
        float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
        for (int i = 0; i < dim; i++) {
            out[outOff + i] = x[xOff + i] * inv * w[i];
        }
    }

    static void addBias(float[] y, int rows, float[] bias) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < bias.length; i++) {
                y[r * bias.length + i] += bias[i];
            }
        }
    }

    static void addInPlace(float[] x, float[] y, int len) {
        for (int i = 0; i < len; i++) {
            x[i] += y[i];
        }
    }

    static void siluMul(float[] gate, float[] up, float[] out, int len) {
        for (int i = 0; i < len; i++) {
            float g = gate[i];
            out[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        float s = 0f;
        for (int i = 0; i < len; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len) {
        for (int i = 0; i < len; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    static void softmax(float[] x, int off, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0f;
        for (int i = 0; i < len; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < len; i++) {
            x[off + i] *= inv;
        }
    }
}
