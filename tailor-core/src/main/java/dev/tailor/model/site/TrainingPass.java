package dev.tailor.model.site;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * One training forward/backward pass of one sequence, as adapters see it: methods with randomness in training
 * (LoRA's dropout) derive it from {@code generation} alone, so a pass's forward, its backward and a gradient
 * checkpointing recompute see the same masks, and a resumed run repeats them exactly. The trainer numbers the
 * passes (its step and the sequence's index within the update); inference has no pass.
 *
 * <p>A pass also carries what an adapter's forward keeps for its backward ({@link #keep}, {@link #kept}): a value
 * lives exactly as long as the pass, so it can never be read by another sequence's backward. A checkpointing
 * recompute keeps the same value again. Used from the thread that runs the pass.
 */
public final class TrainingPass {
    private final long generation;
    private final Map<Object, Map<Object, float[]>> kept = new IdentityHashMap<>();

    /** A pass numbered {@code generation}. */
    public TrainingPass(long generation) {
        this.generation = generation;
    }

    /** The pass's number. */
    public long generation() {
        return generation;
    }

    /** Keeps {@code value} for {@code owner} (an adapter), computed from the input array {@code input}. */
    public void keep(Object owner, float[] input, float[] value) {
        kept.computeIfAbsent(owner, o -> new IdentityHashMap<>()).put(input, value);
    }

    /** What {@code owner} kept in this pass for the input array {@code input}, or null. */
    public float[] kept(Object owner, float[] input) {
        Map<Object, float[]> values = kept.get(owner);
        return values == null ? null : values.get(input);
    }
}
