package dev.tailor.tensor;

/**
 * The exact GELU of PyTorch's {@code torch.nn.functional.gelu} (approximate {@code "none"}, not the tanh form):
 * {@code gelu(x) = x·Φ(x) = x/2 · (1 + erf(x/√2))}, its derivative {@code Φ(x) + x·φ(x)}, and the error functions
 * behind them. Evaluated in double precision with {@code Φ} taken from {@code erfc}, so it keeps its relative
 * accuracy in the far negative tail; the float32 results are correctly rounded or one ulp off.
 */
public final class Gelu {
    private static final double SQRT_HALF = Math.sqrt(0.5);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
    /** Below this |x| the power series is used, above it the continued fraction. */
    private static final double SERIES_LIMIT = 2.5;

    private Gelu() {
    }

    /** {@code gelu(x) = x·Φ(x)}. */
    public static double value(double x) {
        return x * phi(x);
    }

    /** {@code gelu'(x) = Φ(x) + x·φ(x)} with {@code φ(x) = e^(−x²/2)/√(2π)}. */
    public static double derivative(double x) {
        return phi(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    }

    /** Writes {@code out[i] = gelu(x[i])} for the first {@code n} values (out may be x). */
    public static void forward(float[] x, float[] out, int n) {
        for (int i = 0; i < n; i++) {
            out[i] = (float) value(x[i]);
        }
    }

    /** Multiplies {@code grad[i]} by {@code gelu'(x[i])} in place, in double: the chain rule through GELU. */
    public static void backward(float[] x, float[] grad, int n) {
        for (int i = 0; i < n; i++) {
            grad[i] = (float) (grad[i] * derivative(x[i]));
        }
    }

    /** The standard normal CDF {@code Φ(x) = erfc(−x/√2)/2}, accurate in the far tails too. */
    private static double phi(double x) {
        return 0.5 * erfc(-x * SQRT_HALF);
    }

    /** The error function, to about 1e-15 relative. */
    public static double erf(double x) {
        return Math.abs(x) < SERIES_LIMIT ? erfSeries(x) : Math.copySign(1 - erfcFraction(Math.abs(x)), x);
    }

    /** The complementary error function {@code 1 − erf(x)}, without cancellation for large {@code x}. */
    public static double erfc(double x) {
        if (x >= SERIES_LIMIT) {
            return erfcFraction(x);
        }
        if (x <= -SERIES_LIMIT) {
            return 2 - erfcFraction(-x);
        }
        return 1 - erfSeries(x);
    }

    /**
     * {@code erf(x)} for {@code |x| < 2.5} from the series
     * {@code erf(x) = 2/√π · e^(−x²) · Σ_n 2ⁿ x^(2n+1) / (1·3·…·(2n+1))} (Abramowitz &amp; Stegun 7.1.6), whose
     * terms all have the sign of x, so nothing cancels.
     */
    private static double erfSeries(double x) {
        double ax = Math.abs(x);
        double x2 = ax * ax;
        double term = ax;
        double sum = ax;
        for (int n = 1; term > 1e-17 * sum; n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return Math.copySign(TWO_OVER_SQRT_PI * Math.exp(-x2) * sum, x);
    }

    /**
     * {@code erfc(x)} for {@code x ≥ 2.5} from Laplace's continued fraction
     * {@code erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))}, evaluated from the tail.
     */
    private static double erfcFraction(double x) {
        double f = x;
        for (int k = 60; k >= 1; k--) {
            f = x + (k / 2.0) / f;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}
