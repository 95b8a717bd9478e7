package dev.tailor.cost;

import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.LinearSite;
import dev.tailor.tensor.Parallel;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The seconds of a training step on a machine whose kernels were measured ({@link KernelTimes}), worked out as
 * {@code dev.tailor.train.nn.TrainableLlama} runs it, each matrix product priced by its own shape:
 * <ul>
 *   <li>every block's forward: the seven linears' products, RMSNorms, RoPE on queries and keys, attention (its
 *   products on one thread per task, the tasks spread over the kernel threads, and a softmax per score), SwiGLU and
 *   the residual sums;</li>
 *   <li>the head for the rows that carry a loss only: a frozen head chunk by chunk as {@code FusedHead} runs it (each
 *   chunk's logits, their softmax and the input gradient through the chunk), a trainable one as a whole (logits,
 *   loss, weight and input gradients);</li>
 *   <li>the backward of every trained block from the top down: each linear's input gradient (the lowest block's q, k
 *   and v skip it when nothing below trains), the weight gradients of its trainable linears, the norms', SwiGLU's,
 *   RoPE's and attention's backward; gradient checkpointing runs each trained block's forward again;</li>
 *   <li>an adapter's pieces, their FLOPs at the rate of a narrow product (16 outputs) on the same rows, and what its
 *   method's pieces were measured to cost beyond that;</li>
 *   <li>what a pass, a trained block and a frozen head's chunk cost beyond all of that (measured on small models),
 *   and per update the optimizer: the gradients zeroed and clipped and AdamW's step, per trainable value and
 *   tensor.</li>
 * </ul>
 */
final class PassTime {
    /** Query rows of one attention task ({@code SegmentAttention.BLOCK}). */
    static final int ATTENTION_BLOCK = 64;
    /** Bytes of the head's weight per chunk of the frozen head's loss ({@code FusedHead.CHUNK_BYTES}). */
    static final int HEAD_CHUNK_BYTES = 1 << 20;
    /** The outputs of the narrow product an adapter's FLOPs are priced at. */
    static final int NARROW = 16;

    private final TrainedParts parts;
    private final KernelTimes t;
    private final KernelTimes.AdapterOverhead adapter;
    private final ModelConfig c;
    private final Set<String> trainedNames = new HashSet<>();

    private PassTime(TrainedParts parts, KernelTimes times, String method) {
        this.parts = parts;
        this.t = times;
        this.adapter = parts.adapter() == null ? new KernelTimes.AdapterOverhead(0, 0) : times.adapter(method);
        this.c = parts.config();
        parts.trainableBase().forEach(x -> trainedNames.add(x.name()));
    }

    /**
     * The seconds of one training pass (forward, loss and backward) of method {@code method} over a sequence of
     * {@code n} tokens of which {@code lossRows} carry a loss.
     */
    static double perSequence(TrainedParts parts, String method, int n, double lossRows, boolean checkpointing,
                              KernelTimes times) {
        return new PassTime(parts, times, method).sequence(n, lossRows, checkpointing);
    }

    /** The seconds of one optimizer update over the trainable values and tensors. */
    static double perUpdate(TrainedParts parts, KernelTimes times) {
        int tensors = parts.trainableBase().size() + (parts.adapter() == null ? 0 : parts.adapter().trainable().size());
        return parts.trainableValues() * times.optimizerValue() + tensors * times.optimizerTensor();
    }

    private double sequence(int n, double lossRows, boolean checkpointing) {
        int layers = c.numLayers();
        int stop = parts.stopLayer();
        int m = n + parts.promptTokens();
        double seconds = t.pass();
        for (int l = 0; l < layers; l++) {
            seconds += blockForward(m, l);
            seconds += adapterForward(m, l);
        }
        boolean headInput = stop < layers || parts.finalNorm();
        seconds += m * c.hiddenSize() * (t.normForward() + (headInput ? t.normBackward() : 0));
        seconds += head(Math.min(lossRows, n), headInput);
        for (int l = layers - 1; l >= stop; l--) {
            if (checkpointing) {
                seconds += blockForward(m, l) + adapterForward(m, l);
            }
            seconds += blockBackward(m, l) + adapterBackward(m, l) + t.block();
        }
        if (parts.embeddings()) {
            seconds += (double) n * c.hiddenSize() * t.add();
        }
        if (parts.adapter() != null) {
            seconds += narrow(m, parts.adapter().passFlops()) + adapter.pass()
                    + parts.adapter().pieces().size() * adapter.piece();
        }
        return seconds;
    }

    private double blockForward(int m, int layer) {
        double d = c.hiddenSize();
        double f = c.intermediateSize();
        double s = 2 * m * d * t.normForward();
        for (LinearSite site : LinearSite.values()) {
            int[] shape = c.shape(site);
            s += t.forward().seconds(m, shape[0], shape[1]);
        }
        if (c.qkNorm()) {
            s += (double) m * (c.qDim() + c.kvDim()) * t.normForward();
        }
        s += (double) m * (c.qDim() + c.kvDim()) * t.rope();
        s += attention(m, false);
        s += m * f * t.silu() + 2 * m * d * t.add();
        return s;
    }

    private double blockBackward(int m, int layer) {
        double d = c.hiddenSize();
        double f = c.intermediateSize();
        boolean needInput = parts.needsInputGradient(layer);
        boolean needN1 = needInput || parts.inputNormTrained()[layer];
        double s = 0;
        for (LinearSite site : LinearSite.values()) {
            int[] shape = c.shape(site);
            boolean qkv = site == LinearSite.Q_PROJ || site == LinearSite.K_PROJ || site == LinearSite.V_PROJ;
            if (!qkv || needN1) {
                s += t.inputGrad().seconds(m, shape[0], shape[1]);
            }
            if (trainedNames.contains(site.module(layer) + ".weight")) {
                s += t.weightGrad().seconds(m, shape[0], shape[1]);
            }
        }
        s += 2 * m * f * t.silu();
        s += m * d * (t.normBackward() + 2 * t.add());
        if (c.qkNorm()) {
            s += (double) m * (c.qDim() + c.kvDim()) * t.normBackward();
        }
        s += attention(m, true);
        s += (double) m * (c.qDim() + c.kvDim()) * t.rope();
        if (needN1) {
            s += m * d * (t.normBackward() + 2 * t.add());
        }
        return s;
    }

    /**
     * Attention over {@code m} rows, as {@code SegmentAttention} splits it: per query head and block of
     * {@value #ATTENTION_BLOCK} queries, the products up to the block's last key (forward {@code Q·Kᵀ} and
     * {@code P·V}; backward {@code dP}, {@code dQ}, {@code dKᵀ} and {@code dVᵀ}) on one thread each, and the softmax
     * (or its backward) of every score computed; the tasks (head and block forward, heads backward) spread over the
     * kernel threads.
     */
    private double attention(int m, boolean backward) {
        int prefix = parts.prefixTokens();
        int hd = c.headDim();
        ProductGrid g = t.attention();
        double products = 0;
        double scores = 0;
        for (int t0 = 0; t0 < m; t0 += ATTENTION_BLOCK) {
            int r = Math.min(m, t0 + ATTENTION_BLOCK) - t0;
            int keys = prefix + t0 + r;
            scores += (double) r * keys;
            products += backward
                    ? g.seconds(r, keys, hd) + g.seconds(r, hd, keys) + 2 * g.seconds(hd, keys, r)
                    : g.seconds(r, keys, hd) + g.seconds(r, hd, keys);
        }
        double seconds = c.numHeads() * (products + scores * t.softmax());
        int tasks = backward ? c.numHeads() : c.numHeads() * Math.ceilDiv(m, ATTENTION_BLOCK);
        return seconds / Math.max(1, Math.min(tasks, Parallel.threads()));
    }

    /** The head for {@code k} loss rows: its products and the softmax over the vocabulary. */
    private double head(double k, boolean input) {
        if (k <= 0) {
            return 0;
        }
        int d = c.hiddenSize();
        int vocab = c.vocabSize();
        double softmax = k * vocab * t.softmax() / Math.max(1, Math.min(k, Parallel.threads()));
        if (!parts.head()) {
            int chunk = ATTENTION_BLOCK * Math.max(1, Math.ceilDiv(HEAD_CHUNK_BYTES / Float.BYTES, ATTENTION_BLOCK * d));
            chunk = Math.min(chunk, vocab);
            double full = Math.floor((double) vocab / chunk);
            int rest = vocab - (int) full * chunk;
            double s = full * chunkSeconds(k, chunk, d, input) + (rest > 0 ? chunkSeconds(k, rest, d, input) : 0);
            return s + softmax + (full + (rest > 0 ? 1 : 0)) * (t.headChunk() + k * t.headChunkRow());
        }
        double s = t.forward().seconds(k, vocab, d) + 2 * softmax + t.weightGrad().seconds(k, vocab, d);
        return s + (input ? t.inputGrad().seconds(k, vocab, d) : 0);
    }

    private double chunkSeconds(double k, int rows, int d, boolean input) {
        return t.forward().seconds(k, rows, d) + (input ? t.inputGrad().seconds(k, rows, d) : 0);
    }

    private double adapterForward(int m, int layer) {
        double s = 0;
        for (AdapterShape.Piece p : parts.pieces(layer)) {
            s += narrow(m, m * p.forwardFlops());
        }
        return s;
    }

    private double adapterBackward(int m, int layer) {
        double s = 0;
        List<AdapterShape.Piece> pieces = parts.pieces(layer);
        for (AdapterShape.Piece p : pieces) {
            s += narrow(m, m * p.backwardFlops() + p.passFlops());
        }
        return s;
    }

    /** {@code flops} on {@code m} rows at the rate of a forward product of {@value #NARROW} outputs from the hidden size. */
    private double narrow(int m, double flops) {
        if (flops <= 0) {
            return 0;
        }
        double d = c.hiddenSize();
        return flops * t.forward().seconds(m, NARROW, d) / (2.0 * m * NARROW * d);
    }
}
