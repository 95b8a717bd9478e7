package dev.tailor.bench;

import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.AdapterMethod;
import dev.tailor.adapt.AdapterMethods;
import dev.tailor.adapt.MethodOption;
import dev.tailor.adapt.MethodOptions;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What {@code tailor bench train --method} trains: the base ({@code full}) or one registered adapter method built
 * with its defaults, except that a method with a rank option {@code r} (LoRA, DoRA) follows the PyTorch peer's
 * {@code --lora r}: rank r, alpha 2r, on all linear layers; and a method whose defaults do not fit the model gets the
 * options that make them fit ({@link AdapterMethod#fittingOptions}).
 *
 * @param name the method as {@code tailor train --method} spells it
 * @param rank the rank of a method with one (ignored by the others)
 */
public record TrainMethod(String name, int rank) {
    /** The methods, as {@code --method} accepts them: {@code full} and every registered adapter method's names. */
    public static final List<String> NAMES = Stream.concat(Stream.of("full"), AdapterMethods.names().stream()).toList();
    /** The most virtual tokens a method's defaults put in front of a sequence (prompt and prefix tuning's). */
    static final int VIRTUAL_TOKENS = AdapterMethods.options().stream()
            .filter(o -> o.name().equals("num_virtual_tokens") && o.defaultValue() != null)
            .mapToInt(o -> Integer.parseInt(o.defaultValue())).max().orElse(0);
    /** The rank of a method with one when {@code --lora} is not given. */
    static final int DEFAULT_RANK = 8;

    /**
     * Checks the method.
     *
     * @throws IllegalArgumentException listing the methods, or when a rank is not positive
     */
    public TrainMethod {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("--method must be one of " + String.join(", ", NAMES) + ", got "
                    + name);
        }
        if (ranked(name) && rank < 1) {
            throw new IllegalArgumentException("--lora (the rank of " + name + ") must be >= 1, got " + rank);
        }
    }

    /**
     * The method of the bench's flags: {@code --method} when given (with {@code --lora} as the rank of a method with
     * one, 8 when 0), else as before {@code --method} existed: LoRA of rank {@code --lora}, or full fine-tuning for 0.
     */
    public static TrainMethod of(String method, int lora) {
        if (lora < 0) {
            throw new IllegalArgumentException("--lora must be >= 0, got " + lora);
        }
        if (method == null) {
            return lora == 0 ? new TrainMethod("full", 0) : new TrainMethod("lora", lora);
        }
        return new TrainMethod(method, ranked(method) ? (lora == 0 ? DEFAULT_RANK : lora) : 0);
    }

    /** Whether the base's weights train (no adapter). */
    public boolean baseTrains() {
        return name.equals("full");
    }

    /** The rank reported as {@code lora_r}: the rank of a method with one, else 0. */
    public int loraRank() {
        return ranked(name) ? rank : 0;
    }

    /** A fresh adapter of this method for {@code config} on {@code base}, seeded; null for {@code full}. */
    public Adapter create(ModelConfig config, LlamaWeights base, long seed) {
        if (baseTrains()) {
            return null;
        }
        AdapterMethod method = AdapterMethods.byName(name);
        Map<String, List<String>> given = new HashMap<>(method.fittingOptions(name, config));
        if (ranked(name)) {
            given.put("r", List.of(Integer.toString(rank)));
            given.put("lora_alpha", List.of(Double.toString(2.0 * rank)));
            given.put("target_modules", List.of("all-linear"));
        }
        return method.create(name, MethodOptions.of(method.options(), given), new AdapterBase(config, base, null, null),
                seed);
    }

    /** Whether the method {@code name} takes a rank {@code r}. */
    private static boolean ranked(String name) {
        return !name.equals("full") && AdapterMethods.byName(name).options().stream().map(MethodOption::name)
                .anyMatch("r"::equals);
    }
}
