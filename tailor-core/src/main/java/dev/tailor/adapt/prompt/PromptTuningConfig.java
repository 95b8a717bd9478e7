package dev.tailor.adapt.prompt;

import dev.tailor.model.ModelConfig;

/**
 * PEFT's {@code PromptTuningConfig} for a causal LM.
 *
 * @param numVirtualTokens     {@code num_virtual_tokens}: P
 * @param tokenDim             {@code token_dim}: the model's hidden size
 * @param numLayers            {@code num_layers}
 * @param numAttentionHeads    {@code num_attention_heads}
 * @param init                 {@code prompt_tuning_init}
 * @param initText             {@code prompt_tuning_init_text} (TEXT only, else null)
 * @param tokenizerNameOrPath  {@code tokenizer_name_or_path} (TEXT only, else null)
 */
public record PromptTuningConfig(int numVirtualTokens, int tokenDim, int numLayers, int numAttentionHeads,
                                 PromptTuningInit init, String initText, String tokenizerNameOrPath) {

    /**
     * Checks the values as PEFT's {@code __post_init__} does.
     *
     * @throws IllegalArgumentException naming the key that is wrong
     */
    public PromptTuningConfig {
        if (numVirtualTokens < 1) {
            throw new IllegalArgumentException("num_virtual_tokens must be >= 1, got " + numVirtualTokens);
        }
        if (init == PromptTuningInit.TEXT && (initText == null || initText.isEmpty())) {
            throw new IllegalArgumentException("prompt_tuning_init TEXT needs prompt_tuning_init_text");
        }
    }

    /** The config PEFT prepares for {@code model} ({@code _prepare_prompt_learning_config}). */
    public static PromptTuningConfig forModel(ModelConfig model, int numVirtualTokens, PromptTuningInit init,
                                              String initText, String tokenizerNameOrPath) {
        boolean text = init == PromptTuningInit.TEXT;
        return new PromptTuningConfig(numVirtualTokens, model.hiddenSize(), model.numLayers(), model.numHeads(), init,
                text ? initText : null, text ? tokenizerNameOrPath : null);
    }
}
