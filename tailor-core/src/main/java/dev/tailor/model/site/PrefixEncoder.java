package dev.tailor.model.site;

import dev.tailor.tensor.Parameter;

import java.util.List;

/**
 * What computes prefix tuning's keys and values from other trainable tensors (PEFT's {@code PrefixEncoder} with
 * {@code prefix_projection}): the training model writes the prefix {@code [P, layers·2·kvDim]} with {@link #encode}
 * before each pass and sends its gradient back through {@link #backward} after it.
 */
public interface PrefixEncoder {

    /** The tensors trained in place of the prefix. */
    List<Parameter> parameters();

    /** Writes the prefix {@code [P, layers·2·kvDim]} the current parameters give into {@code prefix}. */
    void encode(float[] prefix);

    /** Adds to the parameters' gradients those of a loss whose gradient by the prefix is {@code dPrefix}. */
    void backward(float[] dPrefix);
}
