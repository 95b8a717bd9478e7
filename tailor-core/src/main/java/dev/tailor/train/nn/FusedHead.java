package dev.tailor.train.nn;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.VectorMath;
import dev.tailor.tensor.WeightMatrix;
import java.util.Arrays;

/**
 * The causal-LM cross-entropy through a frozen lm_head E {@code [vocab, d]}, and the gradient of its input, without
 * ever holding the logits of the whole vocabulary: the vocabulary is walked in chunks of about
 * {@link #CHUNK_BYTES} of E, each read from memory once for both of its products (the unfused path reads E once for
 * the logits and again for the input gradient, and writes and re-reads 50 MB of logits at the reference shape).
 *
 * <p>Per chunk: the logits {@code L = X·E_cᵀ} (one GEMM), then per row an online softmax step (FlashAttention's): the
 * running maximum {@code M} and sum {@code S = Σ exp(l − M)} are updated, the chunk's logits become
 * {@code p = exp(l − M)}, and the input gradient's accumulator {@code A = Σ_c p·E_c} is first rescaled by
 * {@code exp(M_old − M)} when the maximum grew, then added to (a second GEMM, on the chunk of E still in cache).
 * At the end the loss of row i is {@code log S + M − l_target} and, since the softmax's normalization is one factor
 * per row, {@code dX = scale·(A / S − E[target])}: the same as {@code scale·(softmax − onehot)·E}.
 *
 * <p>Only for a frozen head: a trainable one needs the normalized probabilities of every chunk for its weight
 * gradient, which exist only once the whole row has been seen.
 */
final class FusedHead {
    /**
     * Bytes of E per chunk, as F32: about one L2. At the reference shape (d = 576) that is 512 rows; a LoRA step ran
     * 3–5% faster than with the whole-vocabulary logits, where chunks of 4096 rows were 5% slower and 256 no better.
     */
    private static final int CHUNK_BYTES = 1 << 20;

    private FusedHead() {
    }

    /**
     * The summed loss of rows {@code [0, k)} of {@code x [k, d]} against {@code targets} (rows whose target is
     * {@link CausalLmLoss#IGNORE_INDEX} carry none) and, when {@code dx} is not null, writes their input gradient
     * {@code dx [k, d]} for the loss scaled by {@code scale}.
     *
     * @throws IllegalArgumentException naming a target outside the vocabulary
     */
    static CausalLmLoss.Total lossAndInputGrad(float[] x, int k, WeightMatrix e, int[] targets, float scale,
                                               float[] dx) {
        int rows = 64 * Math.max(1, (CHUNK_BYTES / Float.BYTES + 64 * e.cols() - 1) / (64 * e.cols()));
        return lossAndInputGrad(x, k, e, targets, scale, dx, rows);
    }

    /** {@link #lossAndInputGrad(float[], int, WeightMatrix, int[], float, float[])} in chunks of {@code chunk} rows. */
    static CausalLmLoss.Total lossAndInputGrad(float[] x, int k, WeightMatrix e, int[] targets, float scale,
                                               float[] dx, int chunkRows) {
        int vocab = e.rows();
        int d = e.cols();
        for (int i = 0; i < k; i++) {
            int t = targets[i];
            if (t != CausalLmLoss.IGNORE_INDEX && (t < 0 || t >= vocab)) {
                throw new IllegalArgumentException("label " + t + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        float[] max = new float[k];
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        double[] sum = new double[k];
        float[] targetLogit = new float[k];
        int chunk = Math.min(chunkRows, vocab);
        float[] logits = new float[k * chunk];
        for (int c0 = 0; c0 < vocab; c0 += chunk) {
            int c1 = Math.min(vocab, c0 + chunk);
            int cn = c1 - c0;
            int first = c0;
            WeightMatrix ec = e.rows(c0, c1);
            MatMul.matmulTransposed(x, 0, k, ec, logits, 0);
            Parallel.parallelForRange(k, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    int off = i * cn;
                    int t = targets[i];
                    if (t >= first && t < first + cn) {
                        targetLogit[i] = logits[off + t - first];
                    }
                    float m = Math.max(max[i], VectorMath.max(logits, off, cn));
                    float rescale = max[i] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(max[i] - m);
                    sum[i] = sum[i] * rescale + VectorMath.expShiftSum(logits, off, cn, m);
                    max[i] = m;
                    if (dx != null && first > 0 && rescale != 1f) {
                        scaleRow(dx, i * d, d, rescale);
                    }
                }
            });
            if (dx != null && c0 == 0) {
                LinearBackward.inputGrad(logits, k, ec, dx);
            } else if (dx != null) {
                LinearBackward.inputGradAdd(logits, k, ec, dx);
            }
        }
        if (dx != null) {
            Parallel.parallelForRange(k, (i0, i1) -> {
                float[] row = new float[d];
                for (int i = i0; i < i1; i++) {
                    int t = targets[i];
                    if (t == CausalLmLoss.IGNORE_INDEX) {
                        Arrays.fill(dx, i * d, (i + 1) * d, 0f);
                        continue;
                    }
                    e.copyRow(t, row, 0);
                    float factor = (float) (scale / sum[i]);
                    for (int c = 0; c < d; c++) {
                        dx[i * d + c] = dx[i * d + c] * factor - scale * row[c];
                    }
                }
            });
        }
        double total = 0;
        long count = 0;
        for (int i = 0; i < k; i++) {
            if (targets[i] != CausalLmLoss.IGNORE_INDEX) {
                total += Math.log(sum[i]) + max[i] - targetLogit[i];
                count++;
            }
        }
        return new CausalLmLoss.Total(total, count);
    }

    private static void scaleRow(float[] x, int off, int len, float a) {
        for (int c = 0; c < len; c++) {
            x[off + c] *= a;
        }
    }
}
