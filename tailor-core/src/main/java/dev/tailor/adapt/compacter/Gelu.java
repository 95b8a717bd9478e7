package dev.tailor.adapt.compacter;

/**
 * The exact GELU of PyTorch's {@code torch.nn.functional.gelu} (approximate {@code "none"}), which AdapterHub's
 * {@code non_linearity: "gelu"} selects: {@code gelu(x) = x·Φ(x) = x/2 · (1 + erf(x/√2))}, and its derivative
 * {@code Φ(x) + x·φ(x)}. Evaluated in double precision, so the float32 results are correctly rounded or one ulp
 * off.
 */
public final class Gelu {
    private static final double SQRT_HALF = Math.sqrt(0.5);
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    /** Beyond this |x| erf is ±1 in double ({@code erfc(6) ≈ 2e-17}). */
    private static final double ERF_SATURATES = 6;

    private Gelu() {
    }

    /**
     * The error function, from the series {@code erf(x) = 2/√π · e^(−x²) · Σ_n 2ⁿ x^(2n+1) / (1·3·…·(2n+1))}
     * (Abramowitz &amp; Stegun 7.1.6), whose terms are all of one sign, so nothing cancels; ±1 for |x| ≥ 6.
     */
    public static double erf(double x) {
        double ax = Math.abs(x);
        if (ax >= ERF_SATURATES) {
            return Math.copySign(1, x);
        }
        double x2 = ax * ax;
        double term = ax;
        double sum = ax;
        for (int n = 1; term > 1e-17 * sum; n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return Math.copySign(Math.min(1, TWO_OVER_SQRT_PI * Math.exp(-x2) * sum), x);
    }

    /** {@code gelu(x) = x/2 · (1 + erf(x/√2))}. */
    public static double value(double x) {
        return 0.5 * x * (1 + erf(x * SQRT_HALF));
    }

    /** {@code gelu'(x) = Φ(x) + x·φ(x)} with {@code Φ(x) = (1 + erf(x/√2))/2}, {@code φ(x) = e^(−x²/2)/√(2π)}. */
    public static double derivative(double x) {
        return 0.5 * (1 + erf(x * SQRT_HALF)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    }

    /** Writes {@code out[i] = gelu(x[i])} for the first {@code n} values. */
    public static void forward(float[] x, float[] out, int n) {
        for (int i = 0; i < n; i++) {
            out[i] = (float) value(x[i]);
        }
    }

    /** Multiplies {@code grad[i]} by {@code gelu'(x[i])} in place: the chain rule through GELU. */
    public static void backward(float[] x, float[] grad, int n) {
        for (int i = 0; i < n; i++) {
            grad[i] = (float) (grad[i] * derivative(x[i]));
        }
    }
}
