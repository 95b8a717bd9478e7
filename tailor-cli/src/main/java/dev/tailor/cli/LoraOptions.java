package dev.tailor.cli;

import dev.tailor.adapt.lora.LoraBias;
import dev.tailor.adapt.lora.LoraInit;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.adapt.lora.LoraSettings;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import picocli.CommandLine.Option;

import java.util.List;

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

    /** The settings; {@code dora} forces DoRA ({@code --method dora}). */
    LoraSettings settings(boolean dora) {
        return new LoraSettings(r, loraAlpha, loraDropout,
                targetModules == null ? List.of("q_proj", "v_proj") : targetModules, useRslora, layersToTransform,
                dora || useDora, LoraBias.parse(bias), LoraInit.parse(initLoraWeights));
    }

    /** A fresh adapter on {@code base}, seeded. */
    LoraModel create(boolean dora, ModelConfig config, LlamaWeights base, long seed) {
        return LoraModel.create(settings(dora), config, base, seed);
    }

    /** The options as one string, for the run's configuration hash. */
    String key() {
        return String.join(",", Integer.toString(r), Double.toString(loraAlpha), Double.toString(loraDropout),
                String.valueOf(targetModules), Boolean.toString(useRslora), String.valueOf(layersToTransform),
                Boolean.toString(useDora), bias, initLoraWeights);
    }
}
