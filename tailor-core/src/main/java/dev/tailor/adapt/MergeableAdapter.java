package dev.tailor.adapt;

/** An adapter whose effect is a change of the linear's weight, {@code W' = W0 + ΔW}, so it can be merged. */
public interface MergeableAdapter extends LinearAdapter {

    /** {@code ΔW} as a row-major {@code [out, in]} float array. */
    float[] delta();
}
