package dev.tailor.io.gguf;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** GGUF tensor names ({@code llama.cpp}'s {@code LLM_TENSOR_NAMES}) and the Hugging Face names they stand for. */
final class GgufNames {
    /** The per-model tensors. */
    private static final Map<String, String> MODEL = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");
    /** The per-block tensors, without {@code blk.N.}. */
    private static final Map<String, String> BLOCK = Map.ofEntries(
            Map.entry("attn_norm.weight", "input_layernorm.weight"),
            Map.entry("attn_q.weight", "self_attn.q_proj.weight"),
            Map.entry("attn_k.weight", "self_attn.k_proj.weight"),
            Map.entry("attn_v.weight", "self_attn.v_proj.weight"),
            Map.entry("attn_q.bias", "self_attn.q_proj.bias"),
            Map.entry("attn_k.bias", "self_attn.k_proj.bias"),
            Map.entry("attn_v.bias", "self_attn.v_proj.bias"),
            Map.entry("attn_output.weight", "self_attn.o_proj.weight"),
            Map.entry("attn_q_norm.weight", "self_attn.q_norm.weight"),
            Map.entry("attn_k_norm.weight", "self_attn.k_norm.weight"),
            Map.entry("ffn_norm.weight", "post_attention_layernorm.weight"),
            Map.entry("ffn_gate.weight", "mlp.gate_proj.weight"),
            Map.entry("ffn_up.weight", "mlp.up_proj.weight"),
            Map.entry("ffn_down.weight", "mlp.down_proj.weight"));
    private static final Pattern BLOCK_NAME = Pattern.compile("blk\\.(\\d{1,9})\\.(.+)");
    private static final Pattern HF_BLOCK_NAME = Pattern.compile("model\\.layers\\.(\\d{1,9})\\.(.+)");

    /** llama.cpp's per-dimension RoPE frequency factors (Llama 3.1 and later), read into the config. */
    static final String ROPE_FREQS = "rope_freqs.weight";

    private GgufNames() {
    }

    /** The Hugging Face name of a GGUF tensor, or the GGUF name itself when it stands for none. */
    static String huggingFace(String gguf) {
        String model = MODEL.get(gguf);
        if (model != null) {
            return model;
        }
        Matcher m = BLOCK_NAME.matcher(gguf);
        if (m.matches()) {
            String block = BLOCK.get(m.group(2));
            if (block != null) {
                return "model.layers." + Integer.parseInt(m.group(1)) + "." + block;
            }
        }
        return gguf;
    }

    /** The GGUF name of a Hugging Face tensor, or null when GGUF has no name for it. */
    static String gguf(String huggingFace) {
        for (Map.Entry<String, String> e : MODEL.entrySet()) {
            if (e.getValue().equals(huggingFace)) {
                return e.getKey();
            }
        }
        Matcher m = HF_BLOCK_NAME.matcher(huggingFace);
        if (m.matches()) {
            for (Map.Entry<String, String> e : BLOCK.entrySet()) {
                if (e.getValue().equals(m.group(2))) {
                    return "blk." + Integer.parseInt(m.group(1)) + "." + e.getKey();
                }
            }
        }
        return null;
    }

    /** Whether the GGUF tensor holds rows of Q or K whose order llama.cpp's converter permuted ({@code attn_q/k}). */
    static boolean isQueryOrKey(String gguf) {
        Matcher m = BLOCK_NAME.matcher(gguf);
        return m.matches() && (m.group(2).startsWith("attn_q.") || m.group(2).startsWith("attn_k."));
    }

    /** Whether the GGUF tensor is a key ({@code attn_k}), permuted by key/value heads rather than query heads. */
    static boolean isKey(String gguf) {
        Matcher m = BLOCK_NAME.matcher(gguf);
        return m.matches() && m.group(2).startsWith("attn_k.");
    }
}
