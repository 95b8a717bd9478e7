package dev.tailor.train.nn;

import dev.tailor.train.Parameter;

/**
 * RMSNorm {@code y = x · rstd · w} with {@code rstd = 1/sqrt(mean(x²) + eps)} over rows of width {@code dim}, with
 * its backward.
 *
 * @param weight the scale (a view of {@code param}'s data when trainable)
 * @param param  the trainable scale, or null
 * @param eps    epsilon
 */
public record Norm(float[] weight, Parameter param, float eps) {

    /** Width of a row. */
    public int dim() {
        return weight.length;
    }

    /** Normalises {@code rows} rows of {@code x} into {@code y}, saving each row's rstd. */
    public void forward(float[] x, int rows, float[] y, float[] rstd) {
        int d = dim();
        for (int r = 0; r < rows; r++) {
            int off = r * d;
            float ss = 0f;
            for (int i = 0; i < d; i++) {
                ss += x[off + i] * x[off + i];
            }
            float s = (float) (1.0 / Math.sqrt(ss / d + eps));
            rstd[r] = s;
            for (int i = 0; i < d; i++) {
                y[off + i] = x[off + i] * s * weight[i];
            }
        }
    }

    /**
     * From {@code dy} and the saved input {@code x} and {@code rstd}, accumulates the weight gradient (if trainable)
     * and, when {@code dx} is not null, adds the input gradient
     * {@code rstd·(dy·w) − x·rstd³·Σ(dy·w·x)/dim} to {@code dx}.
     */
    public void backward(float[] dy, float[] x, float[] rstd, int rows, float[] dx) {
        int d = dim();
        float[] dw = param != null ? param.grad() : null;
        for (int r = 0; r < rows; r++) {
            int off = r * d;
            float s = rstd[r];
            if (dw != null) {
                for (int i = 0; i < d; i++) {
                    dw[i] += dy[off + i] * x[off + i] * s;
                }
            }
            if (dx != null) {
                float dot = 0f;
                for (int i = 0; i < d; i++) {
                    dot += dy[off + i] * weight[i] * x[off + i];
                }
                float c = s * s * s * dot / d;
                for (int i = 0; i < d; i++) {
                    dx[off + i] += s * dy[off + i] * weight[i] - x[off + i] * c;
                }
            }
        }
    }
}
