package dev.tailor.train;

import dev.tailor.adapt.AdapterMethod;
import dev.tailor.adapt.AdapterMethods;
import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.adapt.MethodOptions;

import java.util.List;
import java.util.Map;

/**
 * What a training run changes: base weights ({@link FineTuning}, full or partial) or a fresh adapter of a registered
 * method on a frozen base ({@link AdapterTraining}).
 */
public sealed interface TrainingMethod {

    /** The name it is chosen by: {@code full}, {@code partial}, or an adapter method's ({@code lora} …). */
    String name();

    /**
     * Fine-tuning of the base weights that {@code plan} marks trainable.
     *
     * @param name {@code full} or {@code partial}
     * @param plan which base tensors train
     */
    record FineTuning(String name, FreezePlan plan) implements TrainingMethod {
    }

    /**
     * A fresh adapter of {@code method}'s variant {@code name}, made with {@code options}.
     *
     * @param name    the variant ({@code lora}, {@code dora} …)
     * @param method  the registered method
     * @param options its options
     */
    record AdapterTraining(String name, AdapterMethod method, MethodOptions options) implements TrainingMethod {
    }

    /**
     * The method called {@code name}: {@code full}, {@code partial} with {@code partialPlan}, or a registered adapter
     * method with the {@code given} values of its options (see {@link MethodOptions#of}).
     *
     * @throws dev.tailor.adapt.InvalidOptionException naming {@code method} when no method has the name, or an option
     *                                                 of the method whose value is wrong
     */
    static TrainingMethod of(String name, FreezePlan partialPlan, Map<String, List<String>> given) {
        List<String> names = names();
        if (!names.contains(name)) {
            throw new InvalidOptionException("method", "method must be " + String.join(", ",
                    names.subList(0, names.size() - 1)) + " or " + names.getLast() + ", got " + name);
        }
        return switch (name) {
            case "full" -> new FineTuning(name, FreezePlan.fullFineTuning());
            case "partial" -> new FineTuning(name, partialPlan);
            default -> {
                AdapterMethod method = AdapterMethods.byName(name);
                yield new AdapterTraining(name, method, MethodOptions.of(method.options(), given));
            }
        };
    }

    /** Every name {@link #of} accepts, in order. */
    static List<String> names() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of("full", "partial"),
                AdapterMethods.names().stream()).toList();
    }
}
