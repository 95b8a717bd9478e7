package dev.tailor.model;

import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Site;
import dev.tailor.model.site.SublayerSite;
import dev.tailor.tensor.WeightMatrix;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors of {@link LlamaWeights} under their Hugging Face names, in checkpoint order; matrices as
 * {@link WeightMatrix}, vectors (norms, biases) as float arrays. A tied {@code lm_head} is not listed.
 */
public final class NamedTensors {
    private NamedTensors() {
    }

    /** Name → {@code WeightMatrix} or {@code float[]}. */
    public static Map<String, Object> of(LlamaWeights w) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model.embed_tokens.weight", w.embed());
        for (int i = 0; i < w.layers().size(); i++) {
            LayerWeights l = w.layers().get(i);
            String p = Site.block(i) + ".";
            String a = SublayerSite.SELF_ATTN.module(i) + ".";
            out.put(p + "input_layernorm.weight", l.inputNorm());
            for (LinearSite s : SublayerSite.SELF_ATTN.linears()) {
                out.put(s.module(i) + ".weight", l.linear(s));
            }
            for (LinearSite s : SublayerSite.SELF_ATTN.linears()) {
                putIfPresent(out, s.module(i) + ".bias", l.bias(s));
            }
            putIfPresent(out, a + "q_norm.weight", l.qNorm());
            putIfPresent(out, a + "k_norm.weight", l.kNorm());
            out.put(p + "post_attention_layernorm.weight", l.postAttnNorm());
            for (LinearSite s : SublayerSite.MLP.linears()) {
                out.put(s.module(i) + ".weight", l.linear(s));
            }
        }
        out.put("model.norm.weight", w.finalNorm());
        if (w.lmHead() != w.embed()) {
            out.put("lm_head.weight", w.lmHead());
        }
        return out;
    }

    private static void putIfPresent(Map<String, Object> out, String name, float[] value) {
        if (value != null) {
            out.put(name, value);
        }
    }
}
