package dev.tailor.cost;

import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Site;
import dev.tailor.model.site.SublayerSite;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The tensors of a Llama-family base under their Hugging Face names, worked out from its config alone, in the order
 * of {@link dev.tailor.model.NamedTensors} (a tied {@code lm_head} is not listed): what a freeze plan selects from,
 * and what a fine-tuned model saves.
 */
public final class BaseTensors {
    private BaseTensors() {
    }

    /** What a tensor is, which decides how it is stored and whether it is a product's weight. */
    public enum Kind {
        /** {@code model.embed_tokens.weight}. */
        EMBEDDING,
        /** A block's linear weight {@code [out, in]}. */
        LINEAR,
        /** A norm's weight or a linear's bias: a vector, widened to float32 when loaded. */
        VECTOR,
        /** An untied {@code lm_head.weight}. */
        HEAD
    }

    /**
     * One tensor.
     *
     * @param name  its Hugging Face name
     * @param shape its dimensions
     * @param kind  what it is
     * @param layer its block, or -1 outside the blocks
     */
    public record Tensor(String name, long[] shape, Kind kind, int layer) {
        /** Copies the shape. */
        public Tensor {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** Number of values. */
        public long size() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        /** Whether it is a matrix (embedding, linear or head) rather than a vector. */
        public boolean isMatrix() {
            return kind != Kind.VECTOR;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tensor t && name.equals(t.name) && Arrays.equals(shape, t.shape) && kind == t.kind
                    && layer == t.layer;
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape);
        }
    }

    /** Every tensor of a base of {@code config}, in checkpoint order. */
    public static List<Tensor> of(ModelConfig config) {
        long d = config.hiddenSize();
        List<Tensor> out = new ArrayList<>();
        out.add(new Tensor("model.embed_tokens.weight", new long[] {config.vocabSize(), d}, Kind.EMBEDDING, -1));
        for (int i = 0; i < config.numLayers(); i++) {
            String p = Site.block(i) + ".";
            String a = SublayerSite.SELF_ATTN.module(i) + ".";
            out.add(new Tensor(p + "input_layernorm.weight", new long[] {d}, Kind.VECTOR, i));
            for (LinearSite s : SublayerSite.SELF_ATTN.linears()) {
                out.add(linear(config, s, i));
            }
            for (LinearSite s : SublayerSite.SELF_ATTN.linears()) {
                if (config.hasBias(s)) {
                    out.add(new Tensor(s.module(i) + ".bias", new long[] {config.shape(s)[0]}, Kind.VECTOR, i));
                }
            }
            if (config.qkNorm()) {
                out.add(new Tensor(a + "q_norm.weight", new long[] {config.headDim()}, Kind.VECTOR, i));
                out.add(new Tensor(a + "k_norm.weight", new long[] {config.headDim()}, Kind.VECTOR, i));
            }
            out.add(new Tensor(p + "post_attention_layernorm.weight", new long[] {d}, Kind.VECTOR, i));
            for (LinearSite s : SublayerSite.MLP.linears()) {
                out.add(linear(config, s, i));
            }
        }
        out.add(new Tensor("model.norm.weight", new long[] {d}, Kind.VECTOR, -1));
        if (!config.tieWordEmbeddings()) {
            out.add(new Tensor("lm_head.weight", new long[] {config.vocabSize(), d}, Kind.HEAD, -1));
        }
        return List.copyOf(out);
    }

    private static Tensor linear(ModelConfig config, LinearSite site, int layer) {
        int[] shape = config.shape(site);
        return new Tensor(site.module(layer) + ".weight", new long[] {shape[0], shape[1]}, Kind.LINEAR, layer);
    }

    /** The parameters of a base of {@code config}: every tensor's values, a tied head once. */
    public static long parameters(ModelConfig config) {
        return of(config).stream().mapToLong(Tensor::size).sum();
    }
}
