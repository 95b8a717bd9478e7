package dev.tailor.adapt.lora;

import dev.tailor.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The options of a new LoRA adapter, named as PEFT's {@code LoraConfig}.
 *
 * @param r                 rank
 * @param loraAlpha         alpha; the scale is {@code alpha / r} ({@code alpha / sqrt(r)} with rsLoRA)
 * @param loraDropout       dropout on the adapter's input (only 0 is supported so far)
 * @param targetModules     module names ({@code q_proj} …) or the single entry {@code all-linear}
 * @param useRslora         rank-stabilised scaling
 * @param layersToTransform layers that get adapters, or null for all
 */
public record LoraSettings(int r, double loraAlpha, double loraDropout, List<String> targetModules,
                           boolean useRslora, List<Integer> layersToTransform) {

    private static final List<String> ALL_LINEAR = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
            "up_proj", "down_proj");
    private static final Set<String> ATTENTION = Set.of("q_proj", "k_proj", "v_proj", "o_proj");

    /** Checks the options. */
    public LoraSettings {
        if (r < 1) {
            throw new IllegalArgumentException("--r must be >= 1, got " + r);
        }
        if (loraDropout != 0) {
            throw new IllegalArgumentException("--lora-dropout " + loraDropout + " is not supported yet (use 0)");
        }
        targetModules = List.copyOf(targetModules);
        for (String t : targetModules) {
            if (!t.equals("all-linear") && !ALL_LINEAR.contains(t)) {
                throw new IllegalArgumentException("--target-modules: unknown module \"" + t + "\" (expected "
                        + String.join(", ", ALL_LINEAR) + " or all-linear)");
            }
        }
        if (targetModules.isEmpty()) {
            throw new IllegalArgumentException("--target-modules needs at least one module");
        }
        layersToTransform = layersToTransform == null ? null : List.copyOf(layersToTransform);
    }

    /** The projection names targeted ({@code all-linear} expanded; Llama's {@code lm_head} is never targeted). */
    public List<String> projections() {
        return targetModules.contains("all-linear") ? ALL_LINEAR : targetModules;
    }

    /** Scale of a rank-r pair. */
    public double scale() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /** The full module names of the targets in {@code config}, e.g. {@code model.layers.0.self_attn.q_proj}. */
    public List<String> modules(ModelConfig config) {
        List<String> out = new ArrayList<>();
        for (int l = 0; l < config.numLayers(); l++) {
            if (layersToTransform != null && !layersToTransform.contains(l)) {
                continue;
            }
            for (String p : projections()) {
                out.add("model.layers." + l + "." + (ATTENTION.contains(p) ? "self_attn." : "mlp.") + p);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--layers-to-transform " + layersToTransform + " selects no layer of "
                    + config.numLayers());
        }
        return out;
    }

    /** The {@code [out, in]} shape of a targeted module's linear. */
    public static int[] shape(ModelConfig c, String module) {
        int d = c.hiddenSize();
        String p = module.substring(module.lastIndexOf('.') + 1);
        return switch (p) {
            case "q_proj" -> new int[] {c.qDim(), d};
            case "k_proj", "v_proj" -> new int[] {c.kvDim(), d};
            case "o_proj" -> new int[] {d, c.qDim()};
            case "gate_proj", "up_proj" -> new int[] {c.intermediateSize(), d};
            case "down_proj" -> new int[] {d, c.intermediateSize()};
            default -> throw new IllegalArgumentException("not a LoRA target: " + module);
        };
    }
}
