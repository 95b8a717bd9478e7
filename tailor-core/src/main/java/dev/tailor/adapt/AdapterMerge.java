package dev.tailor.adapt;

import dev.tailor.model.site.LinearHook;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaWeights;
import dev.tailor.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Merges adapters into a base: every targeted linear becomes a float32 copy with the adapters folded in (in the
 * order stacked), biases too where an adapter changes them; untargeted tensors stay the base's, in place. The base
 * itself is never modified, so "unmerging" is dropping the merged weights and the base is restored bit for bit.
 */
public final class AdapterMerge {
    /** The linears of a block, indexed as {@link LayerWeights#withLinears} indexes them. */
    private static final List<LinearSite> SITES = LinearSite.allLinear();

    private AdapterMerge() {
    }

    /**
     * The merged weights.
     *
     * @throws IllegalArgumentException naming the module when an adapter cannot be merged or targets no linear
     */
    public static LlamaWeights merge(LlamaWeights base, List<AdapterSites> stack) {
        for (AdapterSites sites : stack) {
            if (!sites.sublayer().isEmpty() || sites.promptEmbeddings() != null || sites.prefix() != null) {
                throw new IllegalArgumentException("only adapters at linear sites (LoRA, DoRA, IA³) can be merged "
                        + "into the base; adapters at sublayer outputs or virtual tokens (bottlenecks, prompt and "
                        + "prefix tuning) add computation instead");
            }
        }
        Set<String> used = new HashSet<>();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < base.layers().size(); l++) {
            LayerWeights w = base.layers().get(l);
            WeightMatrix[] m = new WeightMatrix[SITES.size()];
            float[][] biases = new float[SITES.size()][];
            for (int i = 0; i < SITES.size(); i++) {
                m[i] = w.linear(SITES.get(i));
                biases[i] = w.bias(SITES.get(i));
                String module = SITES.get(i).module(l);
                List<LinearHook> list = new ArrayList<>();
                for (AdapterSites sites : stack) {
                    LinearHook a = sites.linear().get(module);
                    if (a != null) {
                        list.add(a);
                    }
                }
                if (!list.isEmpty()) {
                    float[] values = floats(m[i]);
                    float[] bias = biases[i] == null ? null : biases[i].clone();
                    for (LinearHook a : list) {
                        if (!(a instanceof MergeableHook mergeable)) {
                            throw new IllegalArgumentException(module + ": a " + a.getClass().getSimpleName()
                                    + " cannot be merged into the weight");
                        }
                        a.checkFits(module, m[i].rows(), m[i].cols());
                        mergeable.mergeInto(values, bias);
                    }
                    m[i] = WeightMatrix.of(values, m[i].rows(), m[i].cols());
                    biases[i] = bias;
                    used.add(module);
                }
            }
            layers.add(w.withLinears(m, biases));
        }
        for (AdapterSites sites : stack) {
            for (String module : sites.linear().keySet()) {
                if (!used.contains(module)) {
                    throw new IllegalArgumentException("adapter module " + module + " is not a linear of this model");
                }
            }
        }
        return new LlamaWeights(base.embed(), List.copyOf(layers), base.finalNorm(), base.lmHead());
    }

    /**
     * Takes {@code stack} out of weights that {@link #merge} made of it (the inverse, in reverse order, through
     * {@link MergeableHook#unmergeFrom}): every targeted linear becomes a new float32 copy equal to the base's up to
     * float rounding; {@code merged} is not modified.
     *
     * @throws IllegalArgumentException naming the module when an adapter cannot be unmerged or does not fit
     */
    public static LlamaWeights unmerge(LlamaWeights merged, List<AdapterSites> stack) {
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < merged.layers().size(); l++) {
            LayerWeights w = merged.layers().get(l);
            WeightMatrix[] m = new WeightMatrix[SITES.size()];
            float[][] biases = new float[SITES.size()][];
            for (int i = 0; i < SITES.size(); i++) {
                m[i] = w.linear(SITES.get(i));
                biases[i] = w.bias(SITES.get(i));
                String module = SITES.get(i).module(l);
                float[] values = null;
                float[] bias = null;
                for (int s = stack.size() - 1; s >= 0; s--) {
                    LinearHook a = stack.get(s).linear().get(module);
                    if (a == null) {
                        continue;
                    }
                    if (!(a instanceof MergeableHook mergeable)) {
                        throw new IllegalArgumentException(module + ": a " + a.getClass().getSimpleName()
                                + " cannot be unmerged from the weight");
                    }
                    a.checkFits(module, m[i].rows(), m[i].cols());
                    if (values == null) {
                        values = floats(m[i]);
                        bias = biases[i] == null ? null : biases[i].clone();
                    }
                    mergeable.unmergeFrom(values, bias);
                }
                if (values != null) {
                    m[i] = WeightMatrix.of(values, m[i].rows(), m[i].cols());
                    biases[i] = bias;
                }
            }
            layers.add(w.withLinears(m, biases));
        }
        return new LlamaWeights(merged.embed(), List.copyOf(layers), merged.finalNorm(), merged.lmHead());
    }

    private static float[] floats(WeightMatrix w) {
        float[] values = new float[Math.multiplyExact(w.rows(), w.cols())];
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, values, r * w.cols());
        }
        return values;
    }
}
