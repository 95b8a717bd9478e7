package dev.tailor.train.nn;

import dev.tailor.tensor.Ops;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.VectorMath;
import dev.tailor.tensor.Parameter;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * RMSNorm {@code y = x · rstd · w} with {@code rstd = 1/sqrt(mean(x²) + eps)} over rows of width {@code dim}, with
 * its backward. Each row's forward is the inference kernel {@link Ops#rmsNorm}; the backward is vectorized here.
 * Both spread rows over the kernel threads (the weight gradient, a sum over rows, is accumulated by one thread in
 * row order).
 *
 * @param weight the scale (a view of {@code param}'s data when trainable)
 * @param param  the trainable scale, or null
 * @param eps    epsilon
 */
public record Norm(float[] weight, Parameter param, float eps) {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Rows from which a call splits across the kernel threads. */
    private static final int PARALLEL_ROWS = 16;

    /** Width of a row. */
    public int dim() {
        return weight.length;
    }

    /** Normalises {@code rows} rows of {@code x} into {@code y}, saving each row's rstd. */
    public void forward(float[] x, int rows, float[] y, float[] rstd) {
        if (rows >= PARALLEL_ROWS) {
            Parallel.parallelForRange(rows, (r0, r1) -> forwardRows(x, r0, r1, y, rstd));
        } else {
            forwardRows(x, 0, rows, y, rstd);
        }
    }

    /**
     * From {@code dy} and the saved input {@code x} and {@code rstd}, accumulates the weight gradient (if trainable)
     * and, when {@code dx} is not null, adds the input gradient
     * {@code rstd·(dy·w) − x·rstd³·Σ(dy·w·x)/dim} to {@code dx}.
     */
    public void backward(float[] dy, float[] x, float[] rstd, int rows, float[] dx) {
        if (param != null) {
            weightGrad(dy, x, rstd, rows, param.grad());
        }
        if (dx == null) {
            return;
        }
        if (rows >= PARALLEL_ROWS) {
            Parallel.parallelForRange(rows, (r0, r1) -> inputGradRows(dy, x, rstd, r0, r1, dx));
        } else {
            inputGradRows(dy, x, rstd, 0, rows, dx);
        }
    }

    private void forwardRows(float[] x, int r0, int r1, float[] y, float[] rstd) {
        int d = dim();
        for (int r = r0; r < r1; r++) {
            rstd[r] = Ops.rmsNorm(x, r * d, weight, eps, y, r * d, d);
        }
    }

    private void inputGradRows(float[] dy, float[] x, float[] rstd, int r0, int r1, float[] dx) {
        int d = dim();
        int bound = F.loopBound(d);
        for (int r = r0; r < r1; r++) {
            int off = r * d;
            float s = rstd[r];
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (; i < bound; i += F.length()) {
                acc = FloatVector.fromArray(F, dy, off + i).mul(FloatVector.fromArray(F, weight, i))
                        .fma(FloatVector.fromArray(F, x, off + i), acc);
            }
            float dot = VectorMath.sum(acc);
            for (; i < d; i++) {
                dot += dy[off + i] * weight[i] * x[off + i];
            }
            float c = s * s * s * dot / d;
            i = 0;
            for (; i < bound; i += F.length()) {
                FloatVector g = FloatVector.fromArray(F, dy, off + i).mul(FloatVector.fromArray(F, weight, i)).mul(s);
                g.sub(FloatVector.fromArray(F, x, off + i).mul(c)).add(FloatVector.fromArray(F, dx, off + i))
                        .intoArray(dx, off + i);
            }
            for (; i < d; i++) {
                dx[off + i] += s * dy[off + i] * weight[i] - x[off + i] * c;
            }
        }
    }

    private void weightGrad(float[] dy, float[] x, float[] rstd, int rows, float[] dw) {
        int d = dim();
        for (int r = 0; r < rows; r++) {
            int off = r * d;
            float s = rstd[r];
            for (int i = 0; i < d; i++) {
                dw[i] += dy[off + i] * x[off + i] * s;
            }
        }
    }
}
