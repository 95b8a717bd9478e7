package dev.tailor.model.site;

/**
 * One training forward/backward pass of one sequence, as adapters see it: methods with randomness in training
 * (LoRA's dropout) derive it from {@code generation} alone, so a pass's forward, its backward and a gradient
 * checkpointing recompute see the same masks, and a resumed run repeats them exactly. The trainer numbers the
 * passes (its step and the sequence's index within the update); inference has no pass. What an adapter's forward
 * leaves for its backward is not here: the forward returns it as a {@link LinearHook.Saved}.
 *
 * @param generation the pass's number
 */
public record TrainingPass(long generation) {
}
