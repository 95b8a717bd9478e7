package dev.tailor.bench;

import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.DType;

import java.util.List;

/**
 * The model shape and run lengths of a benchmark; the flags and defaults are those of the PyTorch peer
 * ({@code torch_peer.py}): SmolLM-135M geometry with 8 layers, tied embeddings, F32.
 *
 * @param dim       hidden size
 * @param layers    decoder blocks
 * @param heads     query heads
 * @param kvHeads   key/value heads
 * @param ffn       SwiGLU width
 * @param vocab     vocabulary size
 * @param seq       prefill / training sequence length
 * @param batch     sequences per step
 * @param prompt    decode: prompt length
 * @param newTokens decode: generated tokens
 * @param steps     measured repetitions
 * @param warmup    unmeasured repetitions first
 * @param dtype     weight type (F32, BF16, F16, or Q8_0/Q4_0: random weights quantized by ggml's reference quantizer)
 */
public record BenchShape(int dim, int layers, int heads, int kvHeads, int ffn, int vocab, int seq, int batch,
                         int prompt, int newTokens, int steps, int warmup, DType dtype) {

    /** Refuses repetition and token counts no benchmark can run, naming the flag. */
    public BenchShape {
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        }
        if (prompt < 1 || newTokens < 1) {
            throw new IllegalArgumentException("--prompt and --new-tokens must be >= 1, got " + prompt + " and "
                    + newTokens);
        }
    }

    /** The peer's defaults. */
    public static BenchShape defaults() {
        return new BenchShape(576, 8, 9, 3, 1536, 49152, 256, 1, 32, 64, 6, 2, DType.F32);
    }

    /**
     * The model config of this shape (context long enough for every mode, prompt and prefix tuning's virtual tokens
     * in front of a training sequence included).
     */
    public ModelConfig config() {
        int context = Math.max(seq + TrainMethod.VIRTUAL_TOKENS, prompt + newTokens) + 8;
        return new ModelConfig("llama", dim, ffn, layers, heads, kvHeads, dim / heads, 1e-5, 10000.0, null,
                vocab, context, true, false, false, 1, List.of(2));
    }

    /** Parameters of the model (tied embeddings counted once). */
    public long parameters() {
        long hd = dim / heads;
        long attn = (long) dim * heads * hd * 2 + (long) dim * kvHeads * hd * 2;
        long mlp = 3L * dim * ffn;
        return layers * (attn + mlp + 2L * dim) + (long) vocab * dim + dim;
    }
}
