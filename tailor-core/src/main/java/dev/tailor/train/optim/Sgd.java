package dev.tailor.train.optim;

import dev.tailor.tensor.Parameter;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent as {@code torch.optim.SGD} with dampening 0 ({@code foreach=False}):
 * <pre>
 * d = g + wd·p                              grad.add(param, alpha=weight_decay)   (coupled decay)
 * b = d (first step), else b = μ·b + d      momentum_buffer
 * d = d + μ·b (nesterov), else d = b
 * p = p − lr·d                              param.add_(grad, alpha=-lr)
 * </pre>
 * ATen computes {@code a + α·b} as a fused multiply-add in its vectorized kernels; so does this class.
 * The gradient arrays are never modified.
 */
public final class Sgd implements Optimizer {
    /** The name saved in checkpoints. */
    public static final String KIND = "sgd";
    /** Slot of the momentum buffer. */
    public static final String MOMENTUM_BUFFER = "momentum_buffer";

    /**
     * Hyperparameters.
     *
     * @param momentum    momentum factor μ, &gt;= 0 (0 disables the buffer)
     * @param nesterov    Nesterov momentum (needs μ &gt; 0)
     * @param weightDecay coupled (L2) weight decay, &gt;= 0
     */
    public record Config(double momentum, boolean nesterov, double weightDecay) {
        /** Validates the ranges torch checks. */
        public Config {
            if (momentum < 0) {
                throw new IllegalArgumentException("SGD: momentum must be >= 0, got " + momentum);
            }
            if (weightDecay < 0) {
                throw new IllegalArgumentException("SGD: weight_decay must be >= 0, got " + weightDecay);
            }
            if (nesterov && momentum == 0) {
                throw new IllegalArgumentException("SGD: nesterov momentum needs momentum > 0");
            }
        }
    }

    private final Config config;
    private final Map<String, float[]> buffers = new HashMap<>();
    private long step;

    /** An SGD with the given hyperparameters and empty state. */
    public Sgd(Config config) {
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
        float wd = (float) config.weightDecay();
        float mu = (float) config.momentum();
        float negLr = (float) -lr;
        for (Parameter p : params) {
            float[] data = p.data();
            float[] grad = p.grad();
            float[] buf = null;
            boolean fresh = false;
            if (config.momentum() != 0) {
                buf = buffers.get(p.name());
                if (buf == null) {
                    buf = new float[p.size()];
                    buffers.put(p.name(), buf);
                    fresh = true;
                } else if (buf.length != p.size()) {
                    throw new IllegalArgumentException("SGD momentum buffer for " + p.name() + " holds "
                            + buf.length + " values, the parameter " + p.size());
                }
            }
            for (int i = 0; i < data.length; i++) {
                float d = config.weightDecay() != 0 ? Math.fma(data[i], wd, grad[i]) : grad[i];
                if (buf != null) {
                    float b = fresh ? d : buf[i] * mu + d;
                    buf[i] = b;
                    d = config.nesterov() ? Math.fma(b, mu, d) : b;
                }
                data[i] = Math.fma(d, negLr, data[i]);
            }
        }
    }

    @Override
    public long steps() {
        return step;
    }

    @Override
    public OptimizerState state() {
        Map<String, Map<String, float[]>> out = new LinkedHashMap<>();
        buffers.forEach((name, b) -> out.put(name, Map.of(MOMENTUM_BUFFER, b)));
        return new OptimizerState(KIND, step, out);
    }

    @Override
    public void load(OptimizerState state) {
        if (!KIND.equals(state.kind())) {
            throw new IllegalArgumentException("cannot load " + state.kind() + " state into SGD");
        }
        Map<String, float[]> loaded = new HashMap<>();
        for (String name : state.buffers().keySet()) {
            loaded.put(name, state.require(name, MOMENTUM_BUFFER).clone());
        }
        buffers.clear();
        buffers.putAll(loaded);
        step = state.step();
    }
}
