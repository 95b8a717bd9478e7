package dev.tailor.train.nn;

import dev.tailor.model.site.SublayerHook;

/**
 * The layers of one decoder block for training.
 *
 * @param inputNorm {@code input_layernorm}
 * @param q         {@code self_attn.q_proj}
 * @param k         {@code self_attn.k_proj}
 * @param v         {@code self_attn.v_proj}
 * @param o         {@code self_attn.o_proj}
 * @param qNorm     qwen3's per-head q norm, or null
 * @param kNorm     qwen3's per-head k norm, or null
 * @param postNorm  {@code post_attention_layernorm}
 * @param gate      {@code mlp.gate_proj}
 * @param up        {@code mlp.up_proj}
 * @param down      {@code mlp.down_proj}
 * @param attnAdapter the adapter at the attention output ({@code model.layers.i.self_attn}), or null
 * @param mlpAdapter  the adapter at the MLP output ({@code model.layers.i.mlp}), or null
 */
public record Block(Norm inputNorm, Linear q, Linear k, Linear v, Linear o, Norm qNorm, Norm kNorm, Norm postNorm,
                    Linear gate, Linear up, Linear down, SublayerHook attnAdapter,
                    SublayerHook mlpAdapter) {

    /** Whether any tensor of the block is trained. */
    public boolean trainable() {
        return inputNorm.param() != null || postNorm.param() != null || q.trainable() || k.trainable()
                || v.trainable() || o.trainable() || gate.trainable() || up.trainable() || down.trainable()
                || (qNorm != null && qNorm.param() != null) || (kNorm != null && kNorm.param() != null)
                || attnAdapter != null || mlpAdapter != null;
    }
}
