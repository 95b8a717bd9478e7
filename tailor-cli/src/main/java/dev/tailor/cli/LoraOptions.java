package dev.tailor.cli;

import dev.tailor.adapt.lora.LoraBias;
import dev.tailor.adapt.lora.LoraInit;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.adapt.lora.LoraPatterns;
import dev.tailor.adapt.lora.LoraSettings;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.LinearSite;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The LoRA / DoRA options of {@code tailor train}, named after PEFT's {@code LoraConfig} keys. */
public final class LoraOptions {

    @Option(names = "--r", defaultValue = "8", description = "lora: rank (default ${DEFAULT-VALUE})")
    int r;
    @Option(names = "--lora-alpha", defaultValue = "16", description = "lora: alpha (default ${DEFAULT-VALUE})")
    double loraAlpha;
    @Option(names = "--lora-dropout", defaultValue = "0",
            description = "lora: dropout on the adapter's input in training, in [0, 1) (default ${DEFAULT-VALUE})")
    double loraDropout;
    @Option(names = "--target-modules", split = ",", description = "lora: projections or module names, all-linear, "
            + "or one regular expression matched against whole module names (default q_proj,v_proj)")
    List<String> targetModules;
    @Option(names = "--use-rslora", description = "lora: scale by alpha/sqrt(r)")
    boolean useRslora;
    @Option(names = "--layers-to-transform", split = ",", description = "lora: only these layers")
    List<Integer> layersToTransform;
    @Option(names = "--use-dora", description = "lora: DoRA, a trained magnitude per output row (same as --method dora)")
    boolean useDora;
    @Option(names = "--bias", defaultValue = "none",
            description = "lora: biases trained with the adapter: none, lora_only or all (default ${DEFAULT-VALUE})")
    String bias;
    @Option(names = "--init-lora-weights", defaultValue = "true",
            description = "lora: init of A: true (Kaiming-uniform) or gaussian (default ${DEFAULT-VALUE})")
    String initLoraWeights;
    @Option(names = "--rank-pattern", split = ",", paramLabel = "MODULE=R", description = "lora: rank of the modules "
            + "MODULE matches (a name, a suffix after a dot, or a regular expression; the first matching key wins), "
            + "e.g. q_proj=16 or model.layers.0.mlp.down_proj=4; repeatable")
    List<String> rankPattern;
    @Option(names = "--alpha-pattern", split = ",", paramLabel = "MODULE=ALPHA",
            description = "lora: alpha of the modules MODULE matches, as --rank-pattern; repeatable")
    List<String> alphaPattern;

    /** The settings; {@code dora} forces DoRA ({@code --method dora}). */
    LoraSettings settings(boolean dora) {
        return new LoraSettings(r, loraAlpha, loraDropout,
                targetModules == null ? List.of(LinearSite.Q_PROJ.shortName(), LinearSite.V_PROJ.shortName())
                        : targetModules, useRslora, layersToTransform,
                dora || useDora, LoraBias.parse(bias), LoraInit.parse(initLoraWeights));
    }

    /** The per-module ranks and alphas of {@code --rank-pattern} / {@code --alpha-pattern}, in the given order. */
    LoraPatterns patterns() {
        return new LoraPatterns(
                parsed("--rank-pattern", rankPattern, Integer::parseInt, "the rank must be a whole number >= 1"),
                parsed("--alpha-pattern", alphaPattern, Double::parseDouble, "alpha must be a number"));
    }

    /** The {@code KEY=VALUE} pairs of {@code flag} with their values parsed, in the given order. */
    private static <T> Map<String, T> parsed(String flag, List<String> values, Function<String, T> parse, String expected) {
        Map<String, T> out = new LinkedHashMap<>();
        pairs(flag, values).forEach((key, value) -> {
            try {
                out.put(key, parse.apply(value));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + ": \"" + key + "=" + value + "\": " + expected);
            }
        });
        return out;
    }

    /** A fresh adapter on {@code base}, seeded. */
    LoraModel create(boolean dora, ModelConfig config, LlamaWeights base, long seed) {
        return LoraModel.create(settings(dora), patterns(), config, base, seed);
    }

    /** {@code MODULE=VALUE} entries as an ordered map (the value after the last {@code =}, kept as text). */
    private static Map<String, String> pairs(String option, List<String> entries) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String entry : entries == null ? List.<String>of() : entries) {
            int eq = entry.lastIndexOf('=');
            if (eq <= 0 || entry.substring(0, eq).isBlank()) {
                throw new IllegalArgumentException(option + ": \"" + entry + "\" must be MODULE=VALUE with a module "
                        + "name or pattern before the =, e.g. q_proj=16");
            }
            String key = entry.substring(0, eq).strip();
            if (out.put(key, entry.substring(eq + 1).strip()) != null) {
                throw new IllegalArgumentException(option + ": \"" + key + "\" is given twice");
            }
        }
        return out;
    }

    /**
     * The options as one string, for the run's configuration hash; the patterns only when given, so a run started
     * before they existed still resumes.
     */
    String key() {
        String key = String.join(",", Integer.toString(r), Double.toString(loraAlpha), Double.toString(loraDropout),
                String.valueOf(targetModules), Boolean.toString(useRslora), String.valueOf(layersToTransform),
                Boolean.toString(useDora), bias, initLoraWeights);
        return rankPattern == null && alphaPattern == null ? key
                : key + ",rank_pattern=" + rankPattern + ",alpha_pattern=" + alphaPattern;
    }
}
