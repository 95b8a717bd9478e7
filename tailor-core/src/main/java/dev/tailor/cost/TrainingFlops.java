package dev.tailor.cost;

import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.ModelConfig;

/**
 * The FLOPs of one training pass of {@code dev.tailor.train.nn.TrainableLlama} over a packed sequence, per real token;
 * a multiply-add counts two, element-wise work (norms, RoPE, SwiGLU, softmax) is left out.
 *
 * <p>With d the hidden size, f the intermediate size, {@code qD = heads·headDim}, {@code kvD = kvHeads·headDim}, V
 * the vocabulary, L the blocks, a sequence of n tokens in one segment, P prompt-tuning tokens (rows
 * {@code m = n + P}) and P' prefix keys (prefix tuning):
 * <ul>
 *   <li>a block's linears hold {@code W = d·qD + 2·d·kvD + qD·d + 3·d·f} weights; their forward is {@code 2·m·W};</li>
 *   <li>causal attention scores and weighs {@code K = m(m+1)/2 + m·P'} query-key pairs per head: {@code 4·qD·K}
 *   forward (the two products {@code Q·Kᵀ} and {@code P·V}), {@code 10·qD·K} backward ({@code Q·Kᵀ} again, since
 *   the probabilities are not kept, then {@code dP}, {@code dV}, {@code dQ}, {@code dK}); the implementation's blocks
 *   of 64 queries compute a little of the masked square, which is not counted;</li>
 *   <li>the head, {@code 2·k·d·V} forward for the k rows with a label (about n for text; only the answers' for
 *   prompt-completion and classification data);</li>
 *   <li>the backward runs only from the top down to the lowest trained block (below it nothing): there the input
 *   gradients of every linear, {@code 2·m·W}, and attention's backward; in the lowest block, unless the embeddings or a
 *   prompt train (or its input norm), the q, k and v products skip their input gradient,
 *   {@code 2·m·(d·qD + 2·d·kvD)} less; the head's input gradient {@code 2·k·d·V} when any block or the final norm
 *   trains;</li>
 *   <li>weight gradients {@code 2·m·w} for the w trainable linear weights of a block, and {@code 2·k·d·V} for a
 *   trainable head;</li>
 *   <li>gradient checkpointing runs the forward of every trained block a second time;</li>
 *   <li>an adapter adds its pieces' forward and backward FLOPs per row ({@link AdapterShape.Piece}; the forward twice
 *   under checkpointing) and its per-pass work.</li>
 * </ul>
 * The sums per pass are divided by n. Kaplan et al.'s {@code 6·N} per token for training a dense model of N
 * parameters is the special case of full fine-tuning without attention terms.
 */
final class TrainingFlops {
    private TrainingFlops() {
    }

    /** The FLOPs per token of one pass over {@code n} tokens of which {@code lossRows} carry a loss. */
    static CostEstimate.Flops perToken(TrainedParts parts, int n, double lossRows, boolean checkpointing) {
        ModelConfig c = parts.config();
        double d = c.hiddenSize();
        double qD = c.qDim();
        double kvD = c.kvDim();
        double weights = d * qD + 2 * d * kvD + qD * d + 3 * d * c.intermediateSize();
        double qkv = d * qD + 2 * d * kvD;
        double m = n + parts.promptTokens();
        double pairs = m * (m + 1) / 2 + m * parts.prefixTokens();
        double attentionForward = 4 * qD * pairs;
        double attentionBackward = 10 * qD * pairs;
        double head = 2.0 * Math.min(n, lossRows) * d * c.vocabSize();
        int layers = c.numLayers();
        int stop = parts.stopLayer();

        double forward = layers * (2 * m * weights + attentionForward) + head;
        double input = 0;
        double weight = parts.head() ? head : 0;
        double recompute = 0;
        double adapter = parts.adapter() == null ? 0 : parts.adapter().totalPassFlops();
        double attention = layers * attentionForward;
        for (int l = 0; l < layers; l++) {
            weight += 2 * m * parts.trainableLinear()[l];
            for (AdapterShape.Piece p : parts.pieces(l)) {
                adapter += m * (p.forwardFlops() + p.backwardFlops() + (checkpointing ? p.forwardFlops() : 0));
            }
            if (l < stop) {
                continue;
            }
            boolean skipQkv = !parts.needsInputGradient(l) && !parts.inputNormTrained()[l];
            input += 2 * m * (weights - (skipQkv ? qkv : 0)) + attentionBackward;
            attention += attentionBackward;
            if (checkpointing) {
                recompute += 2 * m * weights + attentionForward;
                attention += attentionForward;
            }
        }
        if (stop < layers || parts.finalNorm()) {
            input += head;
        }
        return new CostEstimate.Flops(forward / n, input / n, weight / n, recompute / n, adapter / n, attention / n);
    }
}
