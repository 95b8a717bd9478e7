package dev.tailor.model.site;

/**
 * What a linear adapter does to the output of the layer it wraps, when that is all it does: the adapter's
 * {@link LinearHook#forward(LinearOp, float[], int, float[]) forward} equals {@code inner.forward(x, m, y)} followed
 * by {@link #apply}. LoRA adds {@code s·B·A·x}, IA³ on keys and values scales the output, DoRA rescales it by row.
 * A batch whose rows use different adapters then runs the base product once over all its rows and each adapter's
 * stage on its own rows.
 */
@FunctionalInterface
public interface OutputStage {

    /**
     * Turns {@code y [m, out]}, {@code inner}'s output for {@code x [m, in]}, into the adapted output, in place. The
     * arrays may be longer than m rows (a batch's reused work arrays): only the first m rows are read and written.
     */
    void apply(LinearOp inner, float[] x, int m, float[] y);
}
