package dev.tailor.model;

import dev.tailor.model.site.LinearSite;
import dev.tailor.tensor.WeightMatrix;

import static dev.tailor.model.site.LinearSite.DOWN_PROJ;
import static dev.tailor.model.site.LinearSite.GATE_PROJ;
import static dev.tailor.model.site.LinearSite.K_PROJ;
import static dev.tailor.model.site.LinearSite.O_PROJ;
import static dev.tailor.model.site.LinearSite.Q_PROJ;
import static dev.tailor.model.site.LinearSite.UP_PROJ;
import static dev.tailor.model.site.LinearSite.V_PROJ;

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

    /** The weight of linear {@code site}. */
    public WeightMatrix linear(LinearSite site) {
        return switch (site) {
            case Q_PROJ -> q;
            case K_PROJ -> k;
            case V_PROJ -> v;
            case O_PROJ -> o;
            case GATE_PROJ -> gate;
            case UP_PROJ -> up;
            case DOWN_PROJ -> down;
        };
    }

    /** The bias of linear {@code site}, or null (only q, k and v can have one). */
    public float[] bias(LinearSite site) {
        return switch (site) {
            case Q_PROJ -> qBias;
            case K_PROJ -> kBias;
            case V_PROJ -> vBias;
            default -> null;
        };
    }

    /**
     * These weights with the linears and their biases replaced.
     *
     * @param linears per {@link LinearSite}, indexed by its ordinal, its weight
     * @param biases  per {@link LinearSite}, indexed by its ordinal, its bias or null (only q, k and v are read)
     */
    public LayerWeights withLinears(WeightMatrix[] linears, float[][] biases) {
        return new LayerWeights(inputNorm, linears[Q_PROJ.ordinal()], linears[K_PROJ.ordinal()],
                linears[V_PROJ.ordinal()], linears[O_PROJ.ordinal()], biases[Q_PROJ.ordinal()],
                biases[K_PROJ.ordinal()], biases[V_PROJ.ordinal()], qNorm, kNorm, postAttnNorm,
                linears[GATE_PROJ.ordinal()], linears[UP_PROJ.ordinal()], linears[DOWN_PROJ.ordinal()]);
    }
}
