package dev.tailor.adapt.lora;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Site;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The options of a new LoRA adapter, named as PEFT's {@code LoraConfig}.
 *
 * @param r                 rank
 * @param loraAlpha         alpha; the scale is {@code alpha / r} ({@code alpha / sqrt(r)} with rsLoRA)
 * @param loraDropout       dropout on the adapter's input in training, in [0, 1)
 * @param targetModules     module names or suffixes ({@code q_proj}, {@code self_attn.q_proj},
 *                          {@code model.layers.0.mlp.up_proj}), the single entry {@code all-linear}, or a single
 *                          regular expression that must match a whole module name (PEFT's {@code re.fullmatch} of a
 *                          {@code target_modules} string; an entry with any of {@code *+?()[]{}|^$\} is one)
 * @param useRslora         rank-stabilised scaling
 * @param layersToTransform layers that get adapters, or null for all (not applied to a regular expression or to
 *                          full module names, as in PEFT)
 * @param useDora           DoRA: a trained magnitude per output row ({@link DoraLayer})
 * @param bias              which base biases train with the adapter
 * @param initLoraWeights   how A is initialised
 */
public record LoraConfig(int r, double loraAlpha, double loraDropout, List<String> targetModules,
                           boolean useRslora, List<Integer> layersToTransform, boolean useDora, LoraBias bias,
                           LoraInit initLoraWeights) {

    private static final List<String> ALL_LINEAR = LinearSite.allLinearNames();
    private static final Pattern REGEX_SIGN = Pattern.compile("[*+?()\\[\\]{}|^$\\\\]");

    /** Checks the options. */
    public LoraConfig {
        if (r < 1) {
            throw new InvalidOptionException("r", "r must be >= 1, got " + r);
        }
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new InvalidOptionException("lora_dropout", "lora_dropout must be in [0, 1), got " + loraDropout);
        }
        targetModules = List.copyOf(targetModules);
        if (targetModules.isEmpty()) {
            throw new InvalidOptionException("target_modules", "target_modules needs at least one module");
        }
        for (String t : targetModules) {
            if (targetModules.size() > 1 && REGEX_SIGN.matcher(t).find()) {
                throw new InvalidOptionException("target_modules", "target_modules: \"" + t + "\" looks like a regular expression; "
                        + "give a regular expression as the only value");
            }
        }
        if (targetModules.size() == 1 && REGEX_SIGN.matcher(targetModules.getFirst()).find()) {
            try {
                Pattern.compile(targetModules.getFirst());
            } catch (PatternSyntaxException e) {
                throw new InvalidOptionException("target_modules", "target_modules: not a valid regular expression: "
                        + e.getMessage(), e);
            }
        }
        layersToTransform = layersToTransform == null ? null : List.copyOf(layersToTransform);
        if (bias == null || initLoraWeights == null) {
            throw new IllegalArgumentException("bias and init_lora_weights must be given");
        }
    }

    /** Plain LoRA options: no DoRA, no bias trained, Kaiming-uniform A. */
    public LoraConfig(int r, double loraAlpha, double loraDropout, List<String> targetModules, boolean useRslora,
                        List<Integer> layersToTransform) {
        this(r, loraAlpha, loraDropout, targetModules, useRslora, layersToTransform, false, LoraBias.NONE,
                LoraInit.KAIMING_UNIFORM);
    }

    /** The regular expression the targets are given as, if they are one. */
    public Optional<String> targetRegex() {
        return targetModules.size() == 1 && REGEX_SIGN.matcher(targetModules.getFirst()).find()
                ? Optional.of(targetModules.getFirst()) : Optional.empty();
    }

    /**
     * {@code target_modules} as {@code adapter_config.json} holds it: the regular expression as a string, or the
     * list of names ({@code all-linear} expanded, as PEFT saves it).
     */
    public Object targetModulesJson() {
        return targetRegex().<Object>map(s -> s)
                .orElse(targetModules.contains("all-linear") ? ALL_LINEAR : targetModules);
    }

    /** Scale of a rank-r pair. */
    public double scale() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /**
     * The full names of the targeted linears of {@code config} in model order, e.g.
     * {@code model.layers.0.self_attn.q_proj}, matched as PEFT's {@code check_target_module_exists} does (Llama's
     * {@code lm_head} is never targeted).
     *
     * @throws IllegalArgumentException naming the entry that matches no linear, or when nothing is selected
     */
    public List<String> modules(ModelConfig config) {
        List<String> linears = linears(config);
        Optional<String> regex = targetRegex();
        if (regex.isPresent()) {
            Pattern p = Pattern.compile(regex.get());
            List<String> out = linears.stream().filter(m -> p.matcher(m).matches()).toList();
            if (out.isEmpty()) {
                throw new InvalidOptionException("target_modules", "target_modules: the regular expression \"" + regex.get()
                        + "\" matches no linear of the model (names look like model.layers.0.self_attn.q_proj)");
            }
            return out;
        }
        List<String> names = targetModules.contains("all-linear") ? ALL_LINEAR : targetModules;
        for (String t : names) {
            if (linears.stream().noneMatch(m -> m.equals(t) || m.endsWith("." + t))) {
                throw new InvalidOptionException("target_modules", "target_modules: unknown module \"" + t + "\" (expected "
                        + String.join(", ", ALL_LINEAR) + ", all-linear, a module name or a regular expression)");
            }
        }
        List<String> out = new ArrayList<>();
        for (String m : linears) {
            int layer = LinearSite.parse(m).layer();
            boolean inLayers = layersToTransform == null || layersToTransform.contains(layer);
            if (names.contains(m) || (inLayers && names.stream().anyMatch(t -> m.endsWith("." + t)))) {
                out.add(m);
            }
        }
        if (out.isEmpty()) {
            throw new InvalidOptionException("layers_to_transform", "layers_to_transform " + layersToTransform + " selects no layer of "
                    + config.numLayers());
        }
        return out;
    }

    /** Every linear of the blocks of {@code config}, in model order. */
    public static List<String> linears(ModelConfig config) {
        return Site.modules(config.numLayers(), LinearSite.allLinear());
    }

    /** The {@code [out, in]} shape of a targeted module's linear. */
    public static int[] shape(ModelConfig c, String module) {
        return c.shape(LinearSite.parse(module).site());
    }
}
