package dev.tailor.adapt.ia3;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Site;

import java.util.List;
import java.util.TreeSet;

/**
 * The options of a new (IA)³ adapter, named as PEFT's {@code IA3Config}.
 *
 * @param targetModules      projection names ({@code k_proj} …) or the single entry {@code all-linear}
 * @param feedforwardModules the targets whose input is scaled instead of their output (a subset of the targets)
 * @param initIa3Weights     start from ones (the identity); false draws the vectors from a standard normal, as PEFT
 */
public record Ia3Config(List<String> targetModules, List<String> feedforwardModules, boolean initIa3Weights) {

    /** PEFT's targets for Llama-family models ({@code TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING}). */
    public static final List<String> LLAMA_TARGETS = List.of(LinearSite.K_PROJ.shortName(),
            LinearSite.V_PROJ.shortName(), LinearSite.DOWN_PROJ.shortName());
    /** PEFT's feed-forward modules for Llama-family models. */
    public static final List<String> LLAMA_FEEDFORWARD = List.of(LinearSite.DOWN_PROJ.shortName());

    private static final List<String> ALL_LINEAR = LinearSite.allLinearNames();

    /**
     * Checks the options.
     *
     * @throws IllegalArgumentException naming the option when a module is unknown or a feed-forward module is not
     *                                  a target
     */
    public Ia3Config {
        targetModules = List.copyOf(targetModules);
        feedforwardModules = List.copyOf(feedforwardModules);
        if (targetModules.isEmpty()) {
            throw new InvalidOptionException("target_modules", "target_modules needs at least one module");
        }
        for (String t : targetModules) {
            if (!t.equals("all-linear") && !ALL_LINEAR.contains(t)) {
                throw new InvalidOptionException("target_modules", "target_modules: unknown module \"" + t + "\" (expected "
                        + String.join(", ", ALL_LINEAR) + " or all-linear)");
            }
        }
        List<String> targets = targetModules.contains("all-linear") ? ALL_LINEAR : targetModules;
        for (String f : feedforwardModules) {
            if (!targets.contains(f)) {
                throw new InvalidOptionException("feedforward_modules", "feedforward_modules: \"" + f + "\" is not one of the target "
                        + "modules " + targets + " (feedforward_modules must be a subset of target_modules)");
            }
        }
    }

    /**
     * PEFT's defaults for a Llama-family model, with {@code targets} instead when not null: the feed-forward modules
     * are then Llama's that are targeted.
     */
    public static Ia3Config defaults(List<String> targets, List<String> feedforward) {
        List<String> t = targets == null ? LLAMA_TARGETS : targets;
        List<String> f = feedforward != null ? feedforward : LLAMA_FEEDFORWARD.stream()
                .filter(m -> t.contains(m) || t.contains("all-linear")).toList();
        return new Ia3Config(t, f, true);
    }

    /** The projection names targeted ({@code all-linear} expanded), sorted. */
    public List<String> projections() {
        return List.copyOf(new TreeSet<>(targetModules.contains("all-linear") ? ALL_LINEAR : targetModules));
    }

    /** Whether a projection ({@code down_proj}) is a feed-forward module. */
    public boolean isFeedforward(String projection) {
        return feedforwardModules.contains(projection);
    }

    /** The full module names of the targets in {@code config}, e.g. {@code model.layers.0.self_attn.k_proj}. */
    public List<String> modules(ModelConfig config) {
        return Site.modules(config.numLayers(), projections().stream().map(LinearSite::named).toList());
    }

    /** The {@code [out, in]} shape of a projection ({@code q_proj} …) in {@code c}. */
    public static int[] shape(ModelConfig c, String projection) {
        return c.shape(LinearSite.named(projection));
    }
}
