package dev.tailor.cost;

import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.ModelConfig;

/**
 * The activation values one training pass of {@code dev.tailor.train.nn.TrainableLlama} keeps, counted from what it
 * allocates ({@code BlockActivations}, {@code BlockGradients} and its workspace); Tailor runs the sequences of a batch
 * one after another, so these are one sequence's.
 *
 * <p>With d, f, {@code qD}, {@code kvD}, h query heads, {@code h_kv} key-value heads, V, m rows
 * ({@code n + P} with prompt tuning) and P' prefix keys as in {@link TrainingFlops}, a block's forward keeps
 * <pre>
 *   A(m) = m·(4d + 2·qD + 2·kvD + 3f + 2)      its input, both norms' outputs and inverse RMS, q, k, v, the attention
 *                                                output, the residual sum, gate, up and their SwiGLU product
 *        + m·(qD + kvD + h + h_kv)              q and k before their norms, and those norms' inverse RMS (qwen3)
 *        + 2·m·d                                the sublayers' outputs, when an adapter sits on them
 *        + Σ pieces (m·s + s')                  what the block's adapter pieces keep (s per row, s' per pass)
 * </pre>
 * The pass keeps such a block for every trained block, plus one for the blocks below the lowest trained one (which
 * run forward only), plus the backward's scratch {@code G(m) = m·(3f + 3d + 2·qD + 2·kvD)}, the pass's own
 * {@code 4·m·d + m} (the hidden state, its normed copy and their gradients), attention's arrays kept from call to call
 * {@code S(m) = (m + P')·(4·kvD + 2·qD + 3·h·min(64, m)) + 64·qD} (per KV head its gathered keys or values and three
 * arrays of them or their transposes; per query head its transposed key and value gradients, a 64-row block's
 * probabilities and {@code dS} and a transposed block of Q, and the forward's blocks of probabilities, one per thread,
 * counted here as one per head; no block keeps its probabilities, the backward computes them again) and, for a
 * trainable head, the logits {@code n·V} (a frozen head's loss is computed a chunk at a time). With gradient
 * checkpointing a trained block keeps only its input ({@code m·d}) and one block's {@code A(m)}, the largest pieces'
 * included, serves the recomputation:
 * <pre>
 *   without:  (L − stop)·A(m) + Σ pieces + A(m) + G(m) + 4·m·d + m + S(m) [+ n·V]
 *   with:     (L − stop)·m·d + A(m) + max block's pieces + G(m) + 4·m·d + m + S(m) [+ n·V]
 * </pre>
 */
final class ActivationMemory {
    private ActivationMemory() {
    }

    /** The values kept for one sequence of {@code n} tokens. */
    static long values(TrainedParts parts, int n, boolean checkpointing) {
        ModelConfig c = parts.config();
        long d = c.hiddenSize();
        long m = n + parts.promptTokens();
        long block = m * (4 * d + 2L * c.qDim() + 2L * c.kvDim() + 3L * c.intermediateSize() + 2);
        if (c.qkNorm()) {
            block += m * ((long) c.qDim() + c.kvDim() + c.numHeads() + c.numKvHeads());
        }
        if (parts.sublayerAdapters()) {
            block += 2 * m * d;
        }
        long scratch = m * (3L * c.intermediateSize() + 3 * d + 2L * c.qDim() + 2L * c.kvDim());
        long keys = m + parts.prefixTokens();
        long attention = keys * (4L * c.kvDim() + 2L * c.qDim() + 3L * c.numHeads() * Math.min(64, m))
                + 64L * c.qDim();
        long pass = 4 * m * d + m + attention + (parts.head() ? (long) n * c.vocabSize() : 0);
        int stop = parts.stopLayer();
        long kept = 0;
        long largestPieces = 0;
        for (int l = stop; l < c.numLayers(); l++) {
            long pieces = 0;
            for (AdapterShape.Piece p : parts.pieces(l)) {
                pieces += (long) Math.ceil(m * p.savedValues() + p.savedPerPass());
            }
            largestPieces = Math.max(largestPieces, pieces);
            kept += checkpointing ? m * d : block + pieces;
        }
        return kept + block + (checkpointing ? largestPieces : 0) + scratch + pass;
    }
}
