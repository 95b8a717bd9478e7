package dev.tailor.cost;

import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.SublayerSite;

import java.util.List;
import java.util.function.Predicate;

/**
 * What a method trains, as the cost formulas read it: per block, the trainable linear weights and whether anything
 * in it trains; the embeddings, head and final norm; and the adapter's shape.
 *
 * @param config           the architecture
 * @param trainableBase    the base tensors that train
 * @param adapter          the adapter's shape, or null for fine-tuning
 * @param trainableLinear  per block, the values of its trainable linear weights
 * @param inputNormTrained per block, whether its input norm trains
 * @param blockTrained     per block, whether anything in it trains (a base tensor or an adapter's piece)
 * @param embeddings       whether the embeddings train
 * @param head             whether {@code lm_head} trains (a tied one with the embeddings)
 * @param finalNorm        whether the final norm trains
 */
record TrainedParts(ModelConfig config, List<BaseTensors.Tensor> trainableBase, AdapterShape adapter,
                    long[] trainableLinear, boolean[] inputNormTrained, boolean[] blockTrained, boolean embeddings,
                    boolean head, boolean finalNorm) {

    /** The parts of a base of {@code config} whose tensors {@code trainable} selects, with {@code adapter} (or null). */
    static TrainedParts of(ModelConfig config, Predicate<String> trainable, AdapterShape adapter) {
        int layers = config.numLayers();
        long[] linear = new long[layers];
        boolean[] inputNorm = new boolean[layers];
        boolean[] block = new boolean[layers];
        List<BaseTensors.Tensor> base = BaseTensors.of(config).stream().filter(t -> trainable.test(t.name())).toList();
        boolean embeddings = false;
        boolean head = false;
        boolean finalNorm = false;
        for (BaseTensors.Tensor t : base) {
            if (t.layer() >= 0) {
                block[t.layer()] = true;
                if (t.kind() == BaseTensors.Kind.LINEAR) {
                    linear[t.layer()] += t.size();
                }
                if (t.name().endsWith(".input_layernorm.weight")) {
                    inputNorm[t.layer()] = true;
                }
            }
            switch (t.kind()) {
                case EMBEDDING -> embeddings = true;
                case HEAD -> head = true;
                case VECTOR -> finalNorm |= t.layer() < 0;
                case LINEAR -> { }
            }
        }
        if (adapter != null) {
            adapter.pieces().forEach(p -> block[p.layer()] = true);
        }
        return new TrainedParts(config, base, adapter, linear, inputNorm, block, embeddings,
                head || (config.tieWordEmbeddings() && embeddings), finalNorm);
    }

    /** Virtual tokens in front of the input (prompt tuning). */
    int promptTokens() {
        return adapter == null ? 0 : adapter.promptTokens();
    }

    /** Keys and values in front of every attention's (prefix tuning). */
    int prefixTokens() {
        return adapter == null ? 0 : adapter.prefixTokens();
    }

    /**
     * The lowest block the backward reaches, as {@code TrainableLlama} computes it: 0 when the embeddings, a prompt or
     * a prefix train, else the lowest block with anything trainable, else the block count.
     */
    int stopLayer() {
        if (embeddings || promptTokens() > 0 || prefixTokens() > 0) {
            return 0;
        }
        for (int l = 0; l < blockTrained.length; l++) {
            if (blockTrained[l]) {
                return l;
            }
        }
        return config.numLayers();
    }

    /** Whether block {@code layer}'s backward passes a gradient to its input (every trained block but the lowest). */
    boolean needsInputGradient(int layer) {
        return layer > stopLayer() || embeddings || promptTokens() > 0;
    }

    /** Whether any adapter piece sits at a sublayer output (the network then keeps the sublayers' outputs). */
    boolean sublayerAdapters() {
        return adapter != null && adapter.pieces().stream().anyMatch(p -> p.site() instanceof SublayerSite);
    }

    /** The adapter's pieces in block {@code layer}. */
    List<AdapterShape.Piece> pieces(int layer) {
        return adapter == null ? List.of() : adapter.pieces().stream().filter(p -> p.layer() == layer).toList();
    }

    /** The values that train: the base's trainable tensors and the adapter's. */
    long trainableValues() {
        return trainableBase.stream().mapToLong(BaseTensors.Tensor::size).sum()
                + (adapter == null ? 0 : adapter.trainableCount());
    }
}
