package dev.tailor.compare;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.train.FreezePlan;
import dev.tailor.train.TrainingMethod;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One method of a comparison and how it is trained.
 *
 * @param name        {@code full}, {@code partial} or a registered adapter method ({@code lora} …)
 * @param partialPlan what {@code partial} trains; null for the default, the upper half of the base's blocks (and for
 *                    every other method)
 * @param options     the adapter method's options by their names ({@code r}, {@code lora_alpha}), as given
 * @param lr          the peak learning rate
 */
public record MethodSpec(String name, FreezePlan partialPlan, Map<String, List<String>> options, double lr) {

    /** The methods a comparison runs when none are named. */
    public static final List<String> DEFAULT_METHODS = List.of("full", "partial", "lora", "dora", "ia3", "seq_bn",
            "compacter", "prompt");

    /**
     * Checks the name and the learning rate.
     *
     * @throws InvalidOptionException naming {@code method} or {@code lr}
     */
    public MethodSpec {
        if (!TrainingMethod.names().contains(name)) {
            throw new InvalidOptionException("method", "method must be one of " + String.join(", ",
                    TrainingMethod.names()) + ", got " + name);
        }
        if (!(lr > 0 && lr < Double.POSITIVE_INFINITY)) {
            throw new InvalidOptionException("lr", "lr of " + name + " must be a finite number > 0, got " + lr);
        }
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /** {@code name} with its options and the default learning rate of its kind ({@link #defaultLr}). */
    public static MethodSpec of(String name, FreezePlan partialPlan, Map<String, List<String>> options) {
        return new MethodSpec(name, partialPlan, options, defaultLr(name));
    }

    /**
     * The learning rate a method gets unless one is given, the common choices of its papers and of PEFT's examples for
     * AdamW: 1e-4 to fine-tune weights; 1e-3 for LoRA, DoRA, bottlenecks and Compacter; 3e-3 for IA³; 3e-2 for prompt
     * and prefix tuning, whose few virtual tokens need large steps.
     */
    public static double defaultLr(String name) {
        return switch (name) {
            case "full", "partial" -> 1e-4;
            case "ia3" -> 3e-3;
            case "prompt", "prefix" -> 3e-2;
            default -> 1e-3;
        };
    }

    /** What trains on a base of {@code layers} blocks. */
    public TrainingMethod method(int layers) {
        FreezePlan plan = name.equals("partial") ? plan(layers) : null;
        return TrainingMethod.of(name, plan, options);
    }

    /** The partial plan on a base of {@code layers} blocks: the one given, else its upper half of blocks. */
    FreezePlan plan(int layers) {
        if (partialPlan != null) {
            return partialPlan;
        }
        return new FreezePlan(false, new int[] {layers / 2, layers - 1}, List.of(), false, false, false);
    }
}
