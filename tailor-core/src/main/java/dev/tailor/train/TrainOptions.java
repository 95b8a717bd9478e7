package dev.tailor.train;

/**
 * The knobs of a training run, named as in Hugging Face's {@code TrainingArguments} where they have a match.
 *
 * @param steps                 optimizer updates; 0 means {@code epochs} passes over the data
 * @param epochs                passes over the data when {@code steps} is 0
 * @param gradAccumSteps        micro-batches per update
 * @param lr                    peak learning rate
 * @param warmupSteps           linear warm-up updates
 * @param schedule              constant, linear or cosine
 * @param weightDecay           decoupled weight decay (AdamW) or L2 (SGD)
 * @param maxGradNorm           global-norm clipping threshold; 0 disables
 * @param optimizer             adamw or sgd
 * @param evalEvery             evaluate every this many updates; 0 only at the end
 * @param saveEvery             checkpoint every this many updates; 0 only at the end
 * @param keepCheckpoints       checkpoints kept
 * @param logEvery              log a metrics line every this many updates
 * @param gradientCheckpointing recompute block activations in backward
 */
public record TrainOptions(int steps, double epochs, int gradAccumSteps, double lr, int warmupSteps, String schedule,
                           double weightDecay, double maxGradNorm, String optimizer, int evalEvery, int saveEvery,
                           int keepCheckpoints, int logEvery, boolean gradientCheckpointing) {

    /** Checks ranges and names. */
    public TrainOptions {
        if (steps < 0 || (steps == 0 && !(epochs > 0))) {
            throw new IllegalArgumentException("give --steps > 0 or --epochs > 0");
        }
        if (gradAccumSteps < 1) {
            throw new IllegalArgumentException("--grad-accum must be >= 1, got " + gradAccumSteps);
        }
        if (!(lr > 0)) {
            throw new IllegalArgumentException("--lr must be > 0, got " + lr);
        }
        if (warmupSteps < 0 || evalEvery < 0 || saveEvery < 0 || logEvery < 1 || keepCheckpoints < 1) {
            throw new IllegalArgumentException("--warmup-steps, --eval-every and --save-every must be >= 0, "
                    + "--log-every and --keep-checkpoints >= 1");
        }
        if (!schedule.equals("constant") && !schedule.equals("linear") && !schedule.equals("cosine")) {
            throw new IllegalArgumentException("--schedule must be constant, linear or cosine, got " + schedule);
        }
        if (!optimizer.equals("adamw") && !optimizer.equals("sgd")) {
            throw new IllegalArgumentException("--optimizer must be adamw or sgd, got " + optimizer);
        }
        if (weightDecay < 0 || maxGradNorm < 0) {
            throw new IllegalArgumentException("--weight-decay and --max-grad-norm must be >= 0");
        }
    }
}
