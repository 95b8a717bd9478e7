package dev.tailor.model;

import dev.tailor.tensor.Parameter;

import java.util.Arrays;

/**
 * The virtual-token hooks of the network: prompt tuning's embeddings {@code [P, hidden]}, put in front of the input
 * embeddings, and prefix tuning's keys and values {@code [P, layers·2·kvDim]}, put in front of every attention's
 * keys and values. The prefix has PEFT's {@code past_key_values} layout: row p is {@code [layers·2, kvHeads,
 * headDim]}, layer l's key is block {@code 2l} and its value block {@code 2l+1}
 * ({@code view(P, layers·2, kvHeads, headDim).permute(2, 0, 3, 1, 4).split(2)}).
 */
public final class VirtualTokens {

    private VirtualTokens() {
    }

    /** Prefix tuning's row width for {@code config}: {@code layers · 2 · kvHeads · headDim}. */
    public static int prefixWidth(ModelConfig config) {
        return config.numLayers() * 2 * config.kvDim();
    }

    /** Offset of layer {@code layer}'s key within a prefix row. */
    public static int keyOffset(int layer, int kvDim) {
        return 2 * layer * kvDim;
    }

    /** Offset of layer {@code layer}'s value within a prefix row. */
    public static int valueOffset(int layer, int kvDim) {
        return (2 * layer + 1) * kvDim;
    }

    /**
     * Checks that prompt tuning's embeddings ({@code [P, hidden]}) and prefix tuning's keys and values
     * ({@code [P, layers·2·kvDim]}), either may be null but not both set, fit {@code config}.
     *
     * @throws IllegalArgumentException naming the expected and actual shapes
     */
    public static void check(ModelConfig config, Parameter promptEmbeddings, Parameter prefix) {
        if (promptEmbeddings != null && prefix != null) {
            throw new IllegalArgumentException("an adapter has either prompt embeddings or a prefix, not both");
        }
        if (promptEmbeddings != null) {
            checkShape(config, promptEmbeddings, config.hiddenSize(), "prompt tuning", "hidden_size");
        }
        if (prefix != null) {
            checkShape(config, prefix, prefixWidth(config), "prefix tuning", "num_layers·2·kv_heads·head_dim");
        }
    }

    private static void checkShape(ModelConfig config, Parameter p, int width, String method, String widthName) {
        long[] shape = p.shape();
        if (shape.length != 2 || shape[1] != width || shape[0] < 1 || shape[0] >= config.maxPositions()) {
            throw new IllegalArgumentException(method + "'s " + p.name() + " is " + Arrays.toString(shape)
                    + " but this model needs [num_virtual_tokens, " + width + "] (" + widthName + " = " + width
                    + ", 1 <= num_virtual_tokens < " + config.maxPositions() + ")");
        }
    }
}
