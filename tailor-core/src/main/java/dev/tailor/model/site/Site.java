package dev.tailor.model.site;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A place in every decoder block of a Llama-family model where an adapter attaches, under the module names of
 * Hugging Face's {@code LlamaForCausalLM} (which PEFT's adapter files use): a linear ({@link LinearSite}) or a
 * sublayer output ({@link SublayerSite}). In block {@code i} the site is the module
 * {@code model.layers.{i}.{path}}, e.g. {@code model.layers.3.self_attn.q_proj}.
 */
public sealed interface Site permits LinearSite, SublayerSite {

    /** The module path inside a block: {@code self_attn.q_proj}, {@code mlp}. */
    String path();

    /** The module name of this site in block {@code layer}: {@code model.layers.3.self_attn.q_proj}. */
    default String module(int layer) {
        return block(layer) + "." + path();
    }

    /**
     * The module name of block {@code layer}, {@code model.layers.3}: the prefix of every module and tensor name of
     * the block.
     *
     * @throws IllegalArgumentException when {@code layer} is negative
     */
    static String block(int layer) {
        if (layer < 0) {
            throw new IllegalArgumentException("a layer index is >= 0, got " + layer);
        }
        return ModuleNames.BLOCKS + layer;
    }

    /** The module names of {@code sites} in each of {@code numLayers} blocks, block by block, in the given order. */
    static List<String> modules(int numLayers, Collection<? extends Site> sites) {
        List<String> out = new ArrayList<>(numLayers * sites.size());
        for (int layer = 0; layer < numLayers; layer++) {
            for (Site site : sites) {
                out.add(site.module(layer));
            }
        }
        return out;
    }

    /**
     * A site in one block: what a module name stands for.
     *
     * @param layer the block index
     * @param site  the site within the block
     * @param <S>   the kind of site
     */
    record At<S extends Site>(int layer, S site) {

        /** The module name, {@code site.module(layer)}. */
        public String module() {
            return site.module(layer);
        }
    }
}
