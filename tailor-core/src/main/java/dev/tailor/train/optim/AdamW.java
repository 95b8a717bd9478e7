package dev.tailor.train.optim;

import dev.tailor.tensor.Parameter;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW as {@code torch.optim.AdamW} (decoupled weight decay, bias correction, no amsgrad, {@code foreach=False}):
 * per update t = 1, 2, …
 * <pre>
 * p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 * p ← p − lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + ε)
 * </pre>
 * with float32 state {@code exp_avg} (m) and {@code exp_avg_sq} (v) per parameter; see {@link AdamWKernel} for the
 * exact order of float operations.
 */
public final class AdamW implements Optimizer {
    /** The name saved in checkpoints. */
    public static final String KIND = "adamw";
    /** Slot of the first moment m. */
    public static final String EXP_AVG = "exp_avg";
    /** Slot of the second moment v. */
    public static final String EXP_AVG_SQ = "exp_avg_sq";

    /**
     * Hyperparameters.
     *
     * @param beta1       first-moment decay, in [0, 1)
     * @param beta2       second-moment decay, in [0, 1)
     * @param eps         added to the denominator, &gt;= 0
     * @param weightDecay decoupled weight decay, &gt;= 0
     */
    public record Config(double beta1, double beta2, double eps, double weightDecay) {
        /** Validates the ranges torch checks. */
        public Config {
            check(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got " + beta1);
            check(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got " + beta2);
            check(eps >= 0, "eps must be >= 0, got " + eps);
            check(weightDecay >= 0, "weight_decay must be >= 0, got " + weightDecay);
        }

        /** torch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
        public static Config defaults() {
            return new Config(0.9, 0.999, 1e-8, 0.01);
        }

        private static void check(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException("AdamW: " + message);
            }
        }
    }

    private record Moments(float[] m, float[] v) {
    }

    private final Config config;
    private final Map<String, Moments> moments = new HashMap<>();
    private long step;

    /** An AdamW with the given hyperparameters and empty state. */
    public AdamW(Config config) {
        this.config = config;
    }

    /** The hyperparameters. */
    public Config config() {
        return config;
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public void step(List<Parameter> params, double lr) {
        step++;
        AdamWKernel.Coefficients c = AdamWKernel.Coefficients.of(config, lr, step);
        for (Parameter p : params) {
            Moments s = moments.computeIfAbsent(p.name(), k -> new Moments(new float[p.size()], new float[p.size()]));
            if (s.m().length != p.size()) {
                throw new IllegalArgumentException("AdamW state for " + p.name() + " holds " + s.m().length
                        + " values, the parameter " + p.size());
            }
            AdamWKernel.update(p.data(), p.grad(), s.m(), s.v(), c);
        }
    }

    @Override
    public long steps() {
        return step;
    }

    @Override
    public OptimizerState state() {
        Map<String, Map<String, float[]>> buffers = new LinkedHashMap<>();
        moments.forEach((name, s) -> buffers.put(name, Map.of(EXP_AVG, s.m(), EXP_AVG_SQ, s.v())));
        return new OptimizerState(KIND, step, buffers);
    }

    @Override
    public void load(OptimizerState state) {
        if (!KIND.equals(state.kind())) {
            throw new IllegalArgumentException("cannot load " + state.kind() + " state into AdamW");
        }
        Map<String, Moments> loaded = new HashMap<>();
        for (String name : state.buffers().keySet()) {
            float[] m = state.require(name, EXP_AVG);
            float[] v = state.require(name, EXP_AVG_SQ);
            if (m.length != v.length) {
                throw new IllegalArgumentException("AdamW state for " + name + ": exp_avg holds " + m.length
                        + " values, exp_avg_sq " + v.length);
            }
            loaded.put(name, new Moments(m.clone(), v.clone()));
        }
        moments.clear();
        moments.putAll(loaded);
        step = state.step();
    }
}
