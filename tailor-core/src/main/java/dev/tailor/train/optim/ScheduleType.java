package dev.tailor.train.optim;

import dev.tailor.adapt.InvalidOptionException;

import java.util.Locale;

/** The learning-rate schedules, as transformers' {@code SchedulerType} names them. */
public enum ScheduleType {
    /** {@link LrSchedule.ConstantWithWarmup}. */
    CONSTANT,
    /** {@link LrSchedule.LinearWithWarmup}. */
    LINEAR,
    /** {@link LrSchedule.CosineWithWarmup}. */
    COSINE;

    /**
     * The schedule named {@code name} (any case).
     *
     * @throws InvalidOptionException naming {@code schedule} and the accepted names
     */
    public static ScheduleType parse(String name) {
        for (ScheduleType t : values()) {
            if (t.key().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new InvalidOptionException("schedule", "schedule must be constant, linear or cosine, got " + name);
    }

    /** The name as written in options: {@code linear}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** This schedule peaking at {@code lr} after {@code warmupSteps}, over {@code totalSteps} updates. */
    public LrSchedule create(double lr, int warmupSteps, int totalSteps) {
        return switch (this) {
            case CONSTANT -> new LrSchedule.ConstantWithWarmup(lr, warmupSteps);
            case LINEAR -> new LrSchedule.LinearWithWarmup(lr, warmupSteps, totalSteps);
            case COSINE -> new LrSchedule.CosineWithWarmup(lr, warmupSteps, totalSteps);
        };
    }
}
