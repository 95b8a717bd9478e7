package dev.tailor.bench;

import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.bottleneck.Architecture;
import dev.tailor.adapt.bottleneck.BottleneckModel;
import dev.tailor.adapt.bottleneck.BottleneckSettings;
import dev.tailor.adapt.compacter.CompacterArchitecture;
import dev.tailor.adapt.compacter.CompacterModel;
import dev.tailor.adapt.compacter.CompacterSettings;
import dev.tailor.adapt.ia3.Ia3Model;
import dev.tailor.adapt.ia3.Ia3Settings;
import dev.tailor.adapt.lora.LoraBias;
import dev.tailor.adapt.lora.LoraInit;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.adapt.lora.LoraSettings;
import dev.tailor.adapt.prefix.PrefixTuning;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.adapt.prompt.PromptTuning;
import dev.tailor.adapt.prompt.PromptTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningInit;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;

import java.util.List;

/**
 * What {@code tailor bench train --method} trains: the base ({@code full}) or one adapter method built with its
 * PEFT/AdapterHub defaults, except LoRA and DoRA, which follow the PyTorch peer's {@code --lora r}: rank r,
 * alpha 2r, on all seven projections, and Compacter's reduction factor where the default does not fit the model.
 *
 * @param name the method as {@code tailor train --method} spells it
 * @param rank the LoRA/DoRA rank (ignored by the other methods)
 */
public record TrainMethod(String name, int rank) {
    /** The methods, as {@code --method} accepts them. */
    public static final List<String> NAMES = List.of("full", "lora", "dora", "ia3", "prompt", "prefix", "seq_bn",
            "double_seq_bn", "compacter", "compacter++");
    /** PEFT's default {@code num_virtual_tokens} of prompt and prefix tuning in Tailor's CLI. */
    static final int VIRTUAL_TOKENS = 20;
    /** The rank of {@code --method lora|dora} when {@code --lora} is not given. */
    static final int DEFAULT_RANK = 8;

    /**
     * Checks the method.
     *
     * @throws IllegalArgumentException listing the methods, or when a LoRA rank is not positive
     */
    public TrainMethod {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("--method must be one of " + String.join(", ", NAMES) + ", got "
                    + name);
        }
        if ((name.equals("lora") || name.equals("dora")) && rank < 1) {
            throw new IllegalArgumentException("--lora (the rank of " + name + ") must be >= 1, got " + rank);
        }
    }

    /**
     * The method of the bench's flags: {@code --method} when given (with {@code --lora} as the LoRA/DoRA rank, 8 when
     * 0), else as before {@code --method} existed: LoRA of rank {@code --lora}, or full fine-tuning for 0.
     */
    public static TrainMethod of(String method, int lora) {
        if (lora < 0) {
            throw new IllegalArgumentException("--lora must be >= 0, got " + lora);
        }
        if (method == null) {
            return lora == 0 ? new TrainMethod("full", 0) : new TrainMethod("lora", lora);
        }
        boolean lowRank = method.equals("lora") || method.equals("dora");
        return new TrainMethod(method, lowRank ? (lora == 0 ? DEFAULT_RANK : lora) : 0);
    }

    /** Whether the base's weights train (no adapter). */
    public boolean baseTrains() {
        return name.equals("full");
    }

    /** The LoRA rank reported as {@code lora_r}: the rank for LoRA and DoRA, else 0. */
    public int loraRank() {
        return name.equals("lora") || name.equals("dora") ? rank : 0;
    }

    /**
     * A fresh adapter of this method for {@code config} on {@code base} (DoRA reads the base's weights), seeded;
     * null for {@code full}.
     */
    public Adapter create(ModelConfig config, LlamaWeights base, long seed) {
        return switch (name) {
            case "full" -> null;
            case "lora", "dora" -> LoraModel.create(new LoraSettings(rank, 2.0 * rank, 0, List.of("all-linear"), false,
                    null, name.equals("dora"), LoraBias.NONE, LoraInit.KAIMING_UNIFORM), config, base, seed);
            case "ia3" -> Ia3Model.create(Ia3Settings.defaults(null, null), config, seed);
            case "prompt" -> PromptTuning.create(PromptTuningConfig.forModel(config, VIRTUAL_TOKENS,
                    PromptTuningInit.RANDOM, null, null), base.embed(), null, seed);
            case "prefix" -> PrefixTuning.create(PrefixTuningConfig.forModel(config, VIRTUAL_TOKENS), seed);
            case "seq_bn", "double_seq_bn" -> BottleneckModel.create(
                    BottleneckSettings.defaults(Architecture.parse(name), null, null), config, seed);
            case "compacter", "compacter++" -> CompacterModel.create(compacterSettings(config), config, seed);
            default -> throw new IllegalStateException("unhandled method " + name);
        };
    }

    /**
     * AdapterHub's Compacter defaults, with the reduction factor lowered to the largest below 32 that gives whole
     * PHM blocks when 32 does not (576 / 32 = 18 features do not split into {@code phm_dim} 4; 576 / 28 = 20 do).
     */
    private CompacterSettings compacterSettings(ModelConfig config) {
        CompacterSettings defaults = CompacterSettings.defaults(CompacterArchitecture.parse(name));
        int fitting = defaults.suggestReductionFactor(config.hiddenSize());
        return fitting == 0 ? defaults : new CompacterSettings(defaults.architecture(), fitting, defaults.phmDim(),
                defaults.phmRank());
    }
}
