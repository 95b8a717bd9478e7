package dev.tailor.model.site;

/**
 * The size of a linear site's input or output, as the role a model config gives a number to (this package does not
 * know the config).
 */
public enum Width {
    /** The model width, {@code hidden_size}. */
    HIDDEN,
    /** All query heads together, {@code num_attention_heads · head_dim}. */
    QUERY,
    /** All key (or value) heads together, {@code num_key_value_heads · head_dim}. */
    KEY_VALUE,
    /** The SwiGLU width, {@code intermediate_size}. */
    INTERMEDIATE
}
