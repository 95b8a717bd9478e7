package dev.tailor.model;

import dev.tailor.tensor.WeightMatrix;

/**
 * The weights of one decoder block. Matrices stay in place in the model file; the small vectors (norms,
 * biases) are widened to float arrays.
 *
 * @param inputNorm     {@code input_layernorm.weight} [hidden]
 * @param q             {@code self_attn.q_proj.weight} [heads·headDim, hidden]
 * @param k             {@code self_attn.k_proj.weight} [kvHeads·headDim, hidden]
 * @param v             {@code self_attn.v_proj.weight} [kvHeads·headDim, hidden]
 * @param o             {@code self_attn.o_proj.weight} [hidden, heads·headDim]
 * @param qBias         q bias or null (qwen2, attention_bias)
 * @param kBias         k bias or null
 * @param vBias         v bias or null
 * @param qNorm         per-head RMSNorm weight on q [headDim] or null (qwen3)
 * @param kNorm         per-head RMSNorm weight on k [headDim] or null (qwen3)
 * @param postAttnNorm  {@code post_attention_layernorm.weight} [hidden]
 * @param gate          {@code mlp.gate_proj.weight} [intermediate, hidden]
 * @param up            {@code mlp.up_proj.weight} [intermediate, hidden]
 * @param down          {@code mlp.down_proj.weight} [hidden, intermediate]
 */
public record LayerWeights(float[] inputNorm, WeightMatrix q, WeightMatrix k, WeightMatrix v, WeightMatrix o,
                           float[] qBias, float[] kBias, float[] vBias, float[] qNorm, float[] kNorm,
                           float[] postAttnNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
}
