package dev.tailor.train.optim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A learning-rate schedule as Hugging Face transformers builds them on {@code LambdaLR}: the rate of update
 * {@code step} (0-based: step 0 is the first update) is {@code baseLr · multiplier(step)}. Warm-up rises linearly
 * from 0 over {@code warmupSteps}; the multipliers are transformers' {@code get_*_schedule_with_warmup} lambdas.
 */
public sealed interface LrSchedule {

    /** The optimizer's base (peak) learning rate. */
    double baseLr();

    /** The factor applied to the base rate at {@code step}. */
    double multiplier(int step);

    /** The learning rate for update {@code step}: {@code baseLr · multiplier(step)}. */
    default double lr(int step) {
        return baseLr() * multiplier(step);
    }

    /** This schedule as a JSON object ({@code type} plus its fields), as saved in a trainer state. */
    ObjectNode toJson();

    /**
     * {@code get_constant_schedule_with_warmup}: {@code step / max(1, warmup)} during warm-up, then 1.
     *
     * @param baseLr      peak learning rate
     * @param warmupSteps warm-up length, &gt;= 0
     */
    record ConstantWithWarmup(double baseLr, int warmupSteps) implements LrSchedule {
        /** Validates the step count. */
        public ConstantWithWarmup {
            ScheduleJson.steps(warmupSteps, Integer.MAX_VALUE);
        }

        @Override
        public double multiplier(int step) {
            if (step < warmupSteps) {
                return (double) step / Math.max(1, warmupSteps);
            }
            return 1.0;
        }

        @Override
        public ObjectNode toJson() {
            return ScheduleJson.JSON.createObjectNode().put("type", "constant_with_warmup").put("base_lr", baseLr)
                    .put("warmup_steps", warmupSteps);
        }
    }

    /**
     * {@code get_linear_schedule_with_warmup}: after warm-up, {@code max(0, (total − step) / max(1, total −
     * warmup))}.
     *
     * @param baseLr        peak learning rate
     * @param warmupSteps   warm-up length, in [0, trainingSteps]
     * @param trainingSteps total updates
     */
    record LinearWithWarmup(double baseLr, int warmupSteps, int trainingSteps) implements LrSchedule {
        /** Validates the step counts. */
        public LinearWithWarmup {
            ScheduleJson.steps(warmupSteps, trainingSteps);
        }

        @Override
        public double multiplier(int step) {
            if (step < warmupSteps) {
                return (double) step / Math.max(1, warmupSteps);
            }
            return Math.max(0.0, (double) (trainingSteps - step) / Math.max(1, trainingSteps - warmupSteps));
        }

        @Override
        public ObjectNode toJson() {
            return ScheduleJson.JSON.createObjectNode().put("type", "linear").put("base_lr", baseLr)
                    .put("warmup_steps", warmupSteps).put("training_steps", trainingSteps);
        }
    }

    /**
     * {@code get_cosine_schedule_with_warmup}: after warm-up, with {@code progress = (step − warmup) / max(1, total
     * − warmup)}, {@code max(0, ½·(1 + cos(π · cycles · 2 · progress)))}; {@code cycles = 0.5} decays once to 0.
     *
     * @param baseLr        peak learning rate
     * @param warmupSteps   warm-up length, in [0, trainingSteps]
     * @param trainingSteps total updates
     * @param numCycles     cosine waves over the decay (transformers' default 0.5)
     */
    record CosineWithWarmup(double baseLr, int warmupSteps, int trainingSteps, double numCycles)
            implements LrSchedule {
        /** Validates the step counts. */
        public CosineWithWarmup {
            ScheduleJson.steps(warmupSteps, trainingSteps);
        }

        /** A half-cosine decay ({@code numCycles = 0.5}). */
        public CosineWithWarmup(double baseLr, int warmupSteps, int trainingSteps) {
            this(baseLr, warmupSteps, trainingSteps, 0.5);
        }

        @Override
        public double multiplier(int step) {
            if (step < warmupSteps) {
                return (double) step / Math.max(1, warmupSteps);
            }
            double progress = (double) (step - warmupSteps) / Math.max(1, trainingSteps - warmupSteps);
            return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress)));
        }

        @Override
        public ObjectNode toJson() {
            return ScheduleJson.JSON.createObjectNode().put("type", "cosine").put("base_lr", baseLr)
                    .put("warmup_steps", warmupSteps).put("training_steps", trainingSteps)
                    .put("num_cycles", numCycles);
        }
    }

    /**
     * Reads a schedule written by {@link #toJson()}.
     *
     * @throws IllegalArgumentException naming the missing or wrong field
     */
    static LrSchedule fromJson(JsonNode json) {
        String type = ScheduleJson.text(json, "type");
        double base = ScheduleJson.number(json, "base_lr");
        int warmup = ScheduleJson.integer(json, "warmup_steps");
        return switch (type) {
            case "constant_with_warmup" -> new ConstantWithWarmup(base, warmup);
            case "linear" -> new LinearWithWarmup(base, warmup, ScheduleJson.integer(json, "training_steps"));
            case "cosine" -> new CosineWithWarmup(base, warmup, ScheduleJson.integer(json, "training_steps"),
                    ScheduleJson.number(json, "num_cycles"));
            default -> throw new IllegalArgumentException("schedule: unknown type \"" + type
                    + "\" (expected constant_with_warmup, linear or cosine)");
        };
    }
}
