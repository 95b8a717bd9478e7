package dev.tailor.adapt.prefix;

import dev.tailor.model.ModelConfig;

/**
 * PEFT's {@code PrefixTuningConfig} for a causal LM. With grouped-query attention PEFT stores the KV heads:
 * {@code num_attention_heads} is {@code num_key_value_heads} and {@code token_dim} is
 * {@code num_key_value_heads · head_dim}.
 *
 * @param numVirtualTokens  {@code num_virtual_tokens}: P
 * @param tokenDim          {@code token_dim}: the width of one layer's key (and value) row
 * @param numLayers         {@code num_layers}
 * @param numAttentionHeads {@code num_attention_heads}: the KV heads
 * @param encoderHiddenSize {@code encoder_hidden_size} (PEFT's default: {@code token_dim})
 * @param prefixProjection  {@code prefix_projection}: whether the prefix is trained through an MLP
 *                          ({@link PrefixProjection}; the saved tensor is the projected prefix either way)
 */
public record PrefixTuningConfig(int numVirtualTokens, int tokenDim, int numLayers, int numAttentionHeads,
                                 int encoderHiddenSize, boolean prefixProjection) {

    /**
     * Checks the counts.
     *
     * @throws IllegalArgumentException naming the key that is wrong
     */
    public PrefixTuningConfig {
        if (numVirtualTokens < 1) {
            throw new IllegalArgumentException("num_virtual_tokens must be >= 1, got " + numVirtualTokens);
        }
        if (prefixProjection && encoderHiddenSize < 1) {
            throw new IllegalArgumentException("encoder_hidden_size must be >= 1 with prefix_projection, got "
                    + encoderHiddenSize);
        }
    }

    /** The config PEFT prepares for {@code model} ({@code _prepare_prompt_learning_config}, GQA-aware). */
    public static PrefixTuningConfig forModel(ModelConfig model, int numVirtualTokens) {
        return forModel(model, numVirtualTokens, false, null);
    }

    /**
     * Like {@link #forModel(ModelConfig, int)}, with {@code prefix_projection} and its {@code encoder_hidden_size}
     * (null: PEFT's default, {@code token_dim}).
     */
    public static PrefixTuningConfig forModel(ModelConfig model, int numVirtualTokens, boolean prefixProjection,
                                              Integer encoderHiddenSize) {
        return new PrefixTuningConfig(numVirtualTokens, model.kvDim(), model.numLayers(), model.numKvHeads(),
                encoderHiddenSize == null ? model.kvDim() : encoderHiddenSize, prefixProjection);
    }

    /** Width of one row of the saved tensor: {@code num_layers · 2 · token_dim}. */
    public int width() {
        return numLayers * 2 * tokenDim;
    }
}
