package dev.tailor.model.site;

import dev.tailor.tensor.Parameter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where one adapter attaches to a Llama-family model (DESIGN.md: methods at sites).
 *
 * @param linear           per linear module ({@code model.layers.3.self_attn.q_proj}), the piece wrapping it
 * @param sublayer         per sublayer output ({@code model.layers.3.self_attn}, {@code model.layers.3.mlp}), the
 *                         piece applied to it before the residual add
 * @param promptEmbeddings prompt tuning's virtual token embeddings {@code [virtual, hidden]}, prepended to the
 *                         input embeddings; or null
 * @param prefix           prefix tuning's key and value prefixes in PEFT's layout
 *                         {@code [virtual, layers·2·kvHeads·headDim]}; or null
 * @param prefixEncoder    what computes {@code prefix} while training (then it is trained instead of the prefix,
 *                         whose values it writes), or null when the prefix itself is trained or served
 */
public record AdapterSites(Map<String, LinearHook> linear, Map<String, SublayerHook> sublayer,
                           Parameter promptEmbeddings, Parameter prefix, PrefixEncoder prefixEncoder) {

    /** No adapter at all: the base. */
    public static final AdapterSites NONE = new AdapterSites(Map.of(), Map.of(), null, null);

    /**
     * Copies the maps.
     *
     * @throws IllegalArgumentException when there is a prefix encoder but no prefix
     */
    public AdapterSites {
        linear = Map.copyOf(linear);
        sublayer = Map.copyOf(sublayer);
        if (prefixEncoder != null && prefix == null) {
            throw new IllegalArgumentException("a prefix encoder needs the prefix it writes");
        }
    }

    /** Sites whose prefix (if any) is trained or served as it is. */
    public AdapterSites(Map<String, LinearHook> linear, Map<String, SublayerHook> sublayer,
                        Parameter promptEmbeddings, Parameter prefix) {
        this(linear, sublayer, promptEmbeddings, prefix, null);
    }

    /** Only linear sites. */
    public static AdapterSites ofLinear(Map<String, ? extends LinearHook> linear) {
        return new AdapterSites(Map.copyOf(linear), Map.of(), null, null);
    }

    /** Only sublayer sites. */
    public static AdapterSites ofSublayer(Map<String, ? extends SublayerHook> sublayer) {
        return new AdapterSites(Map.of(), Map.copyOf(sublayer), null, null);
    }

    /** Whether nothing is attached. */
    public boolean isEmpty() {
        return linear.isEmpty() && sublayer.isEmpty() && promptEmbeddings == null && prefix == null;
    }

    /** Virtual tokens put in front of every sequence: prompt or prefix tuning's P, else 0. */
    public int virtualTokens() {
        return promptEmbeddings != null ? (int) promptEmbeddings.shape()[0]
                : prefix != null ? (int) prefix.shape()[0] : 0;
    }

    /**
     * All trainable tensors, each once (tensors shared by several sites, such as PHM rule matrices, appear once); with a prefix
     * encoder, its tensors instead of the prefix.
     */
    public List<Parameter> parameters() {
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Parameter> out = new ArrayList<>();
        for (String module : new TreeSet<>(linear.keySet())) {
            for (Parameter p : linear.get(module).parameters()) {
                if (seen.add(p)) {
                    out.add(p);
                }
            }
        }
        for (String site : new TreeSet<>(sublayer.keySet())) {
            for (Parameter p : sublayer.get(site).parameters()) {
                if (seen.add(p)) {
                    out.add(p);
                }
            }
        }
        if (promptEmbeddings != null) {
            out.add(promptEmbeddings);
        }
        if (prefixEncoder != null) {
            out.addAll(prefixEncoder.parameters());
        } else if (prefix != null) {
            out.add(prefix);
        }
        return out;
    }
}
