package dev.tailor.adapt;

import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaWeights;
import dev.tailor.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Merges adapters into a base: every targeted linear becomes a float32 copy {@code W0 + Σ ΔW} (in the order
 * stacked); untargeted tensors stay the base's, in place. The base itself is never modified, so "unmerging" is
 * dropping the merged weights and the base is restored bit for bit.
 */
public final class AdapterMerge {
    private static final String[] SITES = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
        "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

    private AdapterMerge() {
    }

    /**
     * The merged weights.
     *
     * @throws IllegalArgumentException naming the module when an adapter cannot be merged or targets no linear
     */
    public static LlamaWeights merge(LlamaWeights base, Map<String, List<LinearAdapter>> sites) {
        Set<String> used = new HashSet<>();
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < base.layers().size(); l++) {
            LayerWeights w = base.layers().get(l);
            WeightMatrix[] m = {w.q(), w.k(), w.v(), w.o(), w.gate(), w.up(), w.down()};
            for (int i = 0; i < SITES.length; i++) {
                String module = "model.layers." + l + "." + SITES[i];
                List<LinearAdapter> list = sites.get(module);
                if (list != null) {
                    m[i] = merged(module, m[i], list);
                    used.add(module);
                }
            }
            layers.add(new LayerWeights(w.inputNorm(), m[0], m[1], m[2], m[3], w.qBias(), w.kBias(), w.vBias(),
                    w.qNorm(), w.kNorm(), w.postAttnNorm(), m[4], m[5], m[6]));
        }
        for (String module : sites.keySet()) {
            if (!used.contains(module)) {
                throw new IllegalArgumentException("adapter module " + module + " is not a linear of this model");
            }
        }
        return new LlamaWeights(base.embed(), List.copyOf(layers), base.finalNorm(), base.lmHead());
    }

    private static WeightMatrix merged(String module, WeightMatrix w, List<LinearAdapter> adapters) {
        float[] values = new float[Math.multiplyExact(w.rows(), w.cols())];
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, values, r * w.cols());
        }
        for (LinearAdapter a : adapters) {
            if (!(a instanceof MergeableAdapter mergeable)) {
                throw new IllegalArgumentException(module + ": a " + a.getClass().getSimpleName()
                        + " cannot be merged into the weight");
            }
            a.checkFits(module, w.rows(), w.cols());
            float[] delta = mergeable.delta();
            for (int i = 0; i < values.length; i++) {
                values[i] += delta[i];
            }
        }
        return WeightMatrix.of(values, w.rows(), w.cols());
    }
}
