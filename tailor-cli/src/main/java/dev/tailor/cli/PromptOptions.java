package dev.tailor.cli;

import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.prefix.PrefixTuning;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.adapt.prompt.PromptTuning;
import dev.tailor.adapt.prompt.PromptTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningInit;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

/** The options of {@code tailor train --method prompt|prefix}, named after PEFT's config keys. */
public final class PromptOptions {

    @Option(names = "--num-virtual-tokens", defaultValue = "20",
            description = "prompt, prefix: virtual tokens in front of every sequence (default ${DEFAULT-VALUE})")
    int numVirtualTokens;

    @Option(names = "--prompt-tuning-init", defaultValue = "RANDOM",
            description = "prompt: RANDOM (N(0,1)) or TEXT (embeddings of --prompt-tuning-init-text)")
    String promptTuningInit;

    @Option(names = "--prompt-tuning-init-text", description = "prompt: with TEXT, the text whose embeddings start "
            + "the prompt (repeated or cut to --num-virtual-tokens)")
    String promptTuningInitText;

    @Option(names = "--prefix-projection", description = "prefix: train the prefix through PEFT's MLP (embedding → "
            + "Linear → Tanh → Linear); the projected prefix is saved")
    boolean prefixProjection;

    @Option(names = "--encoder-hidden-size", description = "prefix: hidden units of the --prefix-projection MLP "
            + "(default: token_dim, the KV width of a layer)")
    Integer encoderHiddenSize;

    /**
     * A fresh prompt tuning adapter for {@code config}; TEXT init reads {@code embed} rows of the ids
     * {@code tokenizer} gives the init text.
     *
     * @param baseModel the base's name or path, saved as {@code tokenizer_name_or_path} with TEXT init
     */
    public Adapter promptTuning(ModelConfig config, WeightMatrix embed, Tokenizer tokenizer, String baseModel,
                                long seed) {
        PromptTuningInit init = PromptTuningInit.parse(promptTuningInit);
        if (init == PromptTuningInit.TEXT && promptTuningInitText == null) {
            throw new IllegalArgumentException("--prompt-tuning-init TEXT needs --prompt-tuning-init-text");
        }
        return PromptTuning.create(PromptTuningConfig.forModel(config, numVirtualTokens, init, promptTuningInitText,
                baseModel), embed, tokenizer, seed);
    }

    /**
     * A fresh prefix tuning adapter for {@code config}.
     *
     * @throws IllegalArgumentException when {@code --encoder-hidden-size} is given without {@code --prefix-projection}
     */
    public Adapter prefixTuning(ModelConfig config, long seed) {
        if (encoderHiddenSize != null && !prefixProjection) {
            throw new IllegalArgumentException("--encoder-hidden-size needs --prefix-projection");
        }
        return PrefixTuning.create(PrefixTuningConfig.forModel(config, numVirtualTokens, prefixProjection,
                encoderHiddenSize), seed);
    }
}
