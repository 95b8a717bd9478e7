package dev.tailor.train;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.train.optim.OptimizerType;
import dev.tailor.train.optim.ScheduleType;

import java.util.Objects;

/**
 * The knobs of a training run, named as in Hugging Face's {@code TrainingArguments} where they have a match.
 *
 * @param steps                 optimizer updates, at least 1; null for {@code epochs} passes over the data
 * @param epochs                passes over the data when {@code steps} is null
 * @param gradAccumSteps        micro-batches per update
 * @param lr                    peak learning rate
 * @param warmupSteps           linear warm-up updates
 * @param schedule              the learning-rate schedule
 * @param weightDecay           decoupled weight decay (AdamW) or L2 (SGD)
 * @param maxGradNorm           global-norm clipping threshold; 0 disables
 * @param optimizer             the optimizer
 * @param evalEvery             evaluate every this many updates; 0 only at the end
 * @param saveEvery             checkpoint every this many updates; 0 only at the end
 * @param keepCheckpoints       checkpoints kept
 * @param logEvery              log a metrics line every this many updates
 * @param gradientCheckpointing recompute block activations in backward
 */
public record TrainOptions(Integer steps, double epochs, int gradAccumSteps, double lr, int warmupSteps, ScheduleType schedule,
                           double weightDecay, double maxGradNorm, OptimizerType optimizer, int evalEvery, int saveEvery,
                           int keepCheckpoints, int logEvery, boolean gradientCheckpointing) {

    /**
     * Checks ranges; every number must be finite.
     *
     * @throws InvalidOptionException naming the option out of range
     */
    public TrainOptions {
        if (steps != null) {
            atLeast("steps", steps, 1);
        } else if (!(epochs > 0 && epochs < Double.POSITIVE_INFINITY)) {
            throw new InvalidOptionException("epochs", "epochs must be a finite number > 0, got " + epochs);
        }
        atLeast("grad_accum", gradAccumSteps, 1);
        if (!(lr > 0 && lr < Double.POSITIVE_INFINITY)) {
            throw new InvalidOptionException("lr", "lr must be a finite number > 0, got " + lr);
        }
        atLeast("warmup_steps", warmupSteps, 0);
        atLeast("eval_every", evalEvery, 0);
        atLeast("save_every", saveEvery, 0);
        atLeast("log_every", logEvery, 1);
        atLeast("keep_checkpoints", keepCheckpoints, 1);
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(optimizer, "optimizer");
        if (!(weightDecay >= 0 && weightDecay < Double.POSITIVE_INFINITY)) {
            throw new InvalidOptionException("weight_decay", "weight_decay must be a finite number >= 0, got "
                    + weightDecay);
        }
        if (!(maxGradNorm >= 0 && maxGradNorm < Double.POSITIVE_INFINITY)) {
            throw new InvalidOptionException("max_grad_norm", "max_grad_norm must be a finite number >= 0, got "
                    + maxGradNorm);
        }
    }

    private static void atLeast(String option, int value, int min) {
        if (value < min) {
            throw new InvalidOptionException(option, option + " must be >= " + min + ", got " + value);
        }
    }
}
