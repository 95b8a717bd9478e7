package dev.tailor.train.optim;

import dev.tailor.adapt.InvalidOptionException;

import java.util.Locale;

/** The optimizers, with the hyper-parameters transformers' {@code TrainingArguments} default to. */
public enum OptimizerType {
    /** {@link AdamW}: betas 0.9 and 0.999, eps 1e-8. */
    ADAMW,
    /** {@link Sgd}: momentum 0.9, not Nesterov. */
    SGD;

    /**
     * The optimizer named {@code name} (any case).
     *
     * @throws InvalidOptionException naming {@code optimizer} and the accepted names
     */
    public static OptimizerType parse(String name) {
        for (OptimizerType t : values()) {
            if (t.key().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new InvalidOptionException("optimizer", "optimizer must be adamw or sgd, got " + name);
    }

    /** The name as written in options: {@code adamw}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A fresh optimizer of this type with decoupled weight decay (AdamW) or L2 (SGD) {@code weightDecay}. */
    public Optimizer create(double weightDecay) {
        return switch (this) {
            case ADAMW -> new AdamW(new AdamW.Config(0.9, 0.999, 1e-8, weightDecay));
            case SGD -> new Sgd(new Sgd.Config(0.9, false, weightDecay));
        };
    }
}
