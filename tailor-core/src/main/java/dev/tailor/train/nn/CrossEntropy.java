package dev.tailor.train.nn;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.VectorMath;
import dev.tailor.train.data.PackedSequence;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The causal-LM cross-entropy: row t of a sequence predicts {@code labels[t + 1]}; rows whose target is
 * {@link CausalLmLoss#IGNORE_INDEX} (and the last row) carry no loss, so only the {@link #countedRows} need logits.
 * The logits are replaced in place by {@code scale · (softmax − onehot)}. Rows are vectorized and spread over
 * threads.
 */
final class CrossEntropy {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private CrossEntropy() {
    }

    /**
     * The rows of the causal-LM loss that carry one: {@code t} such that {@code labels[t + 1]} is counted, in order.
     */
    static int[] countedRows(int[] labels, int n) {
        int count = 0;
        for (int t = 0; t + 1 < n; t++) {
            if (labels[t + 1] != CausalLmLoss.IGNORE_INDEX) {
                count++;
            }
        }
        int[] rows = new int[count];
        int k = 0;
        for (int t = 0; t + 1 < n; t++) {
            if (labels[t + 1] != CausalLmLoss.IGNORE_INDEX) {
                rows[k++] = t;
            }
        }
        return rows;
    }

    /**
     * The rows of the causal-LM loss of {@code seq}: as {@link #countedRows(int[], int)}, within each segment (the
     * first label of a segment is predicted by nothing before it in the sequence).
     */
    static int[] countedRows(PackedSequence seq) {
        int[] labels = seq.labels().clone();
        for (int t = 0; t < labels.length; t++) {
            if (seq.segmentStarts()[t] == t) {
                labels[t] = CausalLmLoss.IGNORE_INDEX;
            }
        }
        return countedRows(labels, labels.length);
    }

    /**
     * The summed NLL of rows {@code [0, n)} of {@code logits [n, vocab]} against {@code targets[t]} (rows whose target
     * is {@link CausalLmLoss#IGNORE_INDEX} carry none); the logits are replaced by {@code scale · (softmax − onehot)}
     * (zero for rows without loss).
     */
    static CausalLmLoss.Total lossAndGrad(float[] logits, int n, int vocab, int[] targets, float scale) {
        double[] nll = new double[n];
        boolean[] counted = new boolean[n];
        Parallel.parallelForRange(n, (from, to) -> {
            for (int t = from; t < to; t++) {
                int target = targets[t];
                int off = t * vocab;
                if (target == CausalLmLoss.IGNORE_INDEX) {
                    Arrays.fill(logits, off, off + vocab, 0f);
                    continue;
                }
                if (target < 0 || target >= vocab) {
                    throw new IllegalArgumentException("label " + target + " at position " + (t + 1)
                            + " is outside the vocabulary [0, " + vocab + ")");
                }
                nll[t] = row(logits, off, vocab, target, scale);
                counted[t] = true;
            }
        });
        double total = 0;
        long count = 0;
        for (int t = 0; t < n; t++) {
            if (counted[t]) {
                total += nll[t];
                count++;
            }
        }
        return new CausalLmLoss.Total(total, count);
    }

    /** One row: returns {@code logsumexp(x) − x[target]} and overwrites x with {@code scale·(softmax − onehot)}. */
    private static double row(float[] x, int off, int vocab, int target, float scale) {
        int bound = F.loopBound(vocab);
        float max = VectorMath.max(x, off, vocab);
        float targetLogit = x[off + target];
        double sum = VectorMath.expShiftSum(x, off, vocab, max);
        double nll = Math.log(sum) + max - targetLogit;
        float factor = (float) (scale / sum);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, off + i).mul(factor).intoArray(x, off + i);
        }
        for (; i < vocab; i++) {
            x[off + i] *= factor;
        }
        x[off + target] -= scale;
        return nll;
    }
}
