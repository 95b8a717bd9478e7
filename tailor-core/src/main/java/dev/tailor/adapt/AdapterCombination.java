package dev.tailor.adapt;

import java.util.SequencedMap;

/**
 * A way to make one adapter out of several (LoRA's weighted combinations, say), as {@link AdaptedModel#combine}
 * applies it to adapters it holds; each method that can be combined offers its own.
 *
 * @param <A> the adapter it makes
 */
@FunctionalInterface
public interface AdapterCombination<A extends Adapter> {

    /**
     * The combination of {@code adapters}, by name in the order given.
     *
     * @throws IllegalArgumentException naming an adapter this combination cannot take
     */
    A combine(SequencedMap<String, Adapter> adapters);
}
