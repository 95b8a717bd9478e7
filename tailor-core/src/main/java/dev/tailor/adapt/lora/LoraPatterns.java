package dev.tailor.adapt.lora;

import dev.tailor.adapt.InvalidOptionException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * PEFT's per-module overrides of a new LoRA adapter, {@code rank_pattern} and {@code alpha_pattern} of
 * {@code LoraConfig}: each key is a module name or a regular expression, matched as PEFT's {@code get_pattern_key}
 * does ({@code re.match(rf"(.*\.)?({key})$", module)}): the key must match the whole module name
 * ({@code model.layers.0.self_attn.q_proj}) or a part of it that follows a dot, so {@code q_proj},
 * {@code self_attn.q_proj}, {@code model.layers.0.self_attn.q_proj} and {@code layers\.[01]\.mlp\..*} are keys.
 * A module takes the value of the first key in the given order that matches it, else the config's {@code r} /
 * {@code lora_alpha}.
 *
 * @param rankPattern  per key, the rank of the modules it matches (at least 1), in the given order
 * @param alphaPattern per key, the alpha of the modules it matches, in the given order
 */
public record LoraPatterns(Map<String, Integer> rankPattern, Map<String, Double> alphaPattern) {
    /** No overrides. */
    public static final LoraPatterns NONE = new LoraPatterns(Map.of(), Map.of());

    /**
     * Copies the maps, keeping their order.
     *
     * @throws IllegalArgumentException naming the option and key when a key is empty or not a regular expression,
     *                                  a rank is below 1 or an alpha is not finite
     */
    public LoraPatterns {
        rankPattern = new LinkedHashMap<>(rankPattern);
        alphaPattern = new LinkedHashMap<>(alphaPattern);
        rankPattern.forEach((key, rank) -> {
            checkKey("rank_pattern", key);
            if (rank == null || rank < 1) {
                throw new InvalidOptionException("rank_pattern", "rank_pattern: \"" + key + "=" + rank
                        + "\": the rank must be a whole number >= 1");
            }
        });
        alphaPattern.forEach((key, alpha) -> {
            checkKey("alpha_pattern", key);
            if (alpha == null || !Double.isFinite(alpha)) {
                throw new InvalidOptionException("alpha_pattern", "alpha_pattern: \"" + key + "=" + alpha
                        + "\": alpha must be a finite number");
            }
        });
    }

    /**
     * PEFT's {@code get_pattern_key}: the first of {@code keys} that matches {@code module} as the class comment
     * says, or null when none does.
     */
    public static String patternKey(Collection<String> keys, String module) {
        for (String key : keys) {
            if (Pattern.compile("(.*\\.)?(" + key + ")").matcher(module).matches()) {
                return key;
            }
        }
        return null;
    }

    /** The rank of {@code module}: its {@code rank_pattern} value, else {@code r}. */
    public int rank(String module, int r) {
        String key = patternKey(rankPattern.keySet(), module);
        return key == null ? r : rankPattern.get(key);
    }

    /** The alpha of {@code module}: its {@code alpha_pattern} value, else {@code alpha}. */
    public double alpha(String module, double alpha) {
        String key = patternKey(alphaPattern.keySet(), module);
        return key == null ? alpha : alphaPattern.get(key);
    }

    /**
     * Checks the patterns against the targeted {@code modules}: every key must match one of them, and each module
     * must take the same value whether the keys are tried in the given order (as PEFT does when it creates the
     * adapter) or sorted (as PEFT and Tailor save {@code adapter_config.json}, and so as they load it).
     *
     * @throws IllegalArgumentException naming the option and key that matches no targeted module, or the module two
     *                                  overlapping keys give different values
     */
    public void check(List<String> modules) {
        check("rank_pattern", rankPattern, modules);
        check("alpha_pattern", alphaPattern, modules);
    }

    private static <V> void check(String option, Map<String, V> pattern, List<String> modules) {
        for (String key : pattern.keySet()) {
            if (modules.stream().noneMatch(m -> key.equals(patternKey(List.of(key), m)))) {
                throw new InvalidOptionException(option, option + ": \"" + key + "\" matches no targeted module (names look "
                        + "like " + modules.getFirst() + "; a key matches a whole name or the part after a dot)");
            }
        }
        List<String> sorted = new ArrayList<>(new TreeSet<>(pattern.keySet()));
        for (String module : modules) {
            String given = patternKey(pattern.keySet(), module);
            String saved = patternKey(sorted, module);
            if (given != null && !pattern.get(given).equals(pattern.get(saved))) {
                throw new InvalidOptionException(option, option + ": \"" + given + "\" and \"" + saved + "\" both match "
                        + module + " with different values; adapter_config.json keeps the keys sorted, so it would "
                        + "load with the value of \"" + saved + "\": give keys that do not overlap");
            }
        }
    }

    private static void checkKey(String option, String key) {
        if (key == null || key.isBlank()) {
            throw new InvalidOptionException(option, option + ": empty module name in \"" + key + "\"; expected "
                    + "MODULE=VALUE, e.g. q_proj=16");
        }
        try {
            Pattern.compile(key);
        } catch (PatternSyntaxException e) {
            throw new InvalidOptionException(option, option + ": \"" + key + "\" is not a valid regular expression: "
                    + e.getDescription(), e);
        }
    }
}
