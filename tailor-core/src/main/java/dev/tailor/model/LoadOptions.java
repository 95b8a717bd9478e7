package dev.tailor.model;

import dev.tailor.tensor.DType;

import java.util.Locale;

/**
 * How a model's weights are loaded.
 *
 * <p>{@code quantize} (Q8_0 or Q4_0, or null to keep the stored types) quantizes the weights at load into native
 * memory, as {@code llama-quantize} would write them for that type: every weight matrix whose rows are a multiple of
 * 32 long, stored as F32, F16 or BF16 (a GGUF file's Q8_0 and Q4_0 tensors stay as they are, never quantized twice).
 * For Q4_0, the output matrix ({@code lm_head}, or the embedding when it is tied) becomes Q8_0: {@code llama-quantize}
 * keeps it at 6 bits (Q6_K, or Q8_0 when its rows are not a multiple of 256), and Q8_0 is the nearest type the
 * kernels multiply in place. An untied embedding takes the type asked for, as {@code llama-quantize} does; rows
 * shorter than a block multiple, norms and biases keep their types. The values are those of ggml's reference
 * quantizers ({@link dev.tailor.tensor.Quantization}), so a model quantized here computes what the same model
 * quantized by {@code llama-quantize} computes.
 *
 * <p>Quantizing changes the weights but not the base's identity: {@link BaseFingerprint} is of the files, so an
 * adapter trained on the quantized base (QLoRA-style) applies to the full-precision one, and back.
 *
 * @param quantize Q8_0, Q4_0 or null
 */
public record LoadOptions(DType quantize) {
    /** The stored types, in place. */
    public static final LoadOptions DEFAULT = new LoadOptions(null);

    /**
     * @throws IllegalArgumentException if {@code quantize} is neither null, Q8_0 nor Q4_0
     */
    public LoadOptions {
        if (quantize != null && quantize != DType.Q8_0 && quantize != DType.Q4_0) {
            throw new IllegalArgumentException("a model can be quantized at load to Q8_0 or Q4_0, not " + quantize);
        }
    }

    /**
     * The options for a {@code --quantize} value: Q8_0 or Q4_0 (any case), or null for none.
     *
     * @throws IllegalArgumentException naming the value when it is neither
     */
    public static LoadOptions quantized(String type) {
        if (type == null) {
            return DEFAULT;
        }
        return switch (type.toUpperCase(Locale.ROOT)) {
            case "Q8_0" -> new LoadOptions(DType.Q8_0);
            case "Q4_0" -> new LoadOptions(DType.Q4_0);
            default -> throw new IllegalArgumentException("--quantize must be Q8_0 or Q4_0, got \"" + type + "\"");
        };
    }

    /** The type the output matrix ({@code lm_head}, or a tied embedding) is quantized to. */
    DType outputType() {
        return quantize == DType.Q4_0 ? DType.Q8_0 : quantize;
    }
}
