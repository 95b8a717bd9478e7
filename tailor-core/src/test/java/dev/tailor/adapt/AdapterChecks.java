package dev.tailor.adapt;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared checks of adapter tests on the tiny Llama: finite differences, logits, a short packed sequence. */
public final class AdapterChecks {
    private AdapterChecks() {
    }

    /** Two examples of 7 and 5 tokens of the tiny Llama's vocabulary, packed (segment mask and restarts exercised). */
    public static PackedSequence packed() {
        int[] tokens = {1, 450, 4996, 17354, 1701, 432, 17204, 1, 975, 278, 17366, 29889};
        int[] labels = tokens.clone();
        labels[0] = CausalLmLoss.IGNORE_INDEX;
        labels[7] = CausalLmLoss.IGNORE_INDEX;
        int[] positions = {0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4};
        int[] starts = {0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7};
        return new PackedSequence(tokens, labels, positions, starts);
    }

    /**
     * Compares the analytic gradient of every parameter of {@code model} with central differences of the summed NLL
     * at {@code probes} random entries each; each tensor's gradient must also be clearly non-zero somewhere, so
     * the comparison is not vacuous.
     *
     * @return the number of entries compared
     */
    public static int checkGradients(TrainableLlama model, PackedSequence seq, SplittableRandom rnd, int probes) {
        model.parameters().forEach(Parameter::zeroGrad);
        model.forwardBackward(seq, 1f);
        int checked = 0;
        for (Parameter p : model.parameters()) {
            double largest = 0;
            for (float g : p.grad()) {
                largest = Math.max(largest, Math.abs(g));
            }
            assertTrue(largest > 1e-3, p.name() + ": gradient is ~0 everywhere (" + largest + ")");
            for (int probe = 0; probe < probes; probe++) {
                int i = probe == 0 ? argMax(p.grad()) : rnd.nextInt(p.size());
                double numeric = centralDifference(model, seq, p, i);
                assertEquals(numeric, p.grad()[i], 3e-3 + 3e-2 * Math.abs(numeric), p.name() + "[" + i + "]");
                checked++;
            }
        }
        return checked;
    }

    /** The central difference (step 0.01) of the summed NLL of {@code seq} in entry {@code i} of {@code p}. */
    public static double centralDifference(TrainableLlama model, PackedSequence seq, Parameter p, int i) {
        float saved = p.data()[i];
        float eps = 1e-2f;
        p.data()[i] = saved + eps;
        double plus = model.loss(seq).nllSum();
        p.data()[i] = saved - eps;
        double minus = model.loss(seq).nllSum();
        p.data()[i] = saved;
        return (plus - minus) / (2 * eps);
    }

    /** Adds uniform noise in {@code [-scale, scale]} to every parameter. */
    public static void perturb(Iterable<Parameter> params, SplittableRandom rnd, double scale) {
        for (Parameter p : params) {
            float[] v = p.data();
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) rnd.nextDouble(-scale, scale);
            }
        }
    }

    /** The inference model's logits of every position of {@code ids}. */
    public static float[] logits(LlamaModel m, int[] ids) {
        return m.logits(m.forward(m.newCache(ids.length), ids), 0, ids.length);
    }

    /** {@code max |a − b|}. */
    public static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static int argMax(float[] g) {
        int best = 0;
        for (int i = 1; i < g.length; i++) {
            if (Math.abs(g[i]) > Math.abs(g[best])) {
                best = i;
            }
        }
        return best;
    }
}
