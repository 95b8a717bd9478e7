package dev.tailor.model;

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
            String p = "model.layers." + i + ".";
            String a = p + "self_attn.";
            out.put(p + "input_layernorm.weight", l.inputNorm());
            out.put(a + "q_proj.weight", l.q());
            out.put(a + "k_proj.weight", l.k());
            out.put(a + "v_proj.weight", l.v());
            out.put(a + "o_proj.weight", l.o());
            putIfPresent(out, a + "q_proj.bias", l.qBias());
            putIfPresent(out, a + "k_proj.bias", l.kBias());
            putIfPresent(out, a + "v_proj.bias", l.vBias());
            putIfPresent(out, a + "q_norm.weight", l.qNorm());
            putIfPresent(out, a + "k_norm.weight", l.kNorm());
            out.put(p + "post_attention_layernorm.weight", l.postAttnNorm());
            out.put(p + "mlp.gate_proj.weight", l.gate());
            out.put(p + "mlp.up_proj.weight", l.up());
            out.put(p + "mlp.down_proj.weight", l.down());
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
