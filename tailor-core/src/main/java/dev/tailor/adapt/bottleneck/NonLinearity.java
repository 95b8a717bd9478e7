package dev.tailor.adapt.bottleneck;

import java.util.Arrays;
import java.util.Locale;

/**
 * The bottleneck's non-linearity, named as AdapterHub's {@code non_linearity} (which resolves them through
 * {@code transformers.activations.get_activation}): each with its derivative, evaluated in double precision.
 */
public enum NonLinearity {
    /** {@code max(0, x)}; derivative 1 for {@code x > 0}, else 0 (as PyTorch, also at 0). */
    RELU("relu"),
    /** Swish = SiLU, {@code x·σ(x)}. */
    SWISH("swish"),
    /** The exact GELU {@code x·Φ(x) = x·(1 + erf(x/√2))/2} (PyTorch's default {@code gelu}, not the tanh form). */
    GELU("gelu"),
    /** {@code tanh(x)}. */
    TANH("tanh");

    private static final double SQRT_HALF = Math.sqrt(0.5);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

    private final String configName;

    NonLinearity(String configName) {
        this.configName = configName;
    }

    /** The name saved in the config ({@code relu}, {@code swish}, {@code gelu}, {@code tanh}). */
    public String configName() {
        return configName;
    }

    /**
     * The non-linearity of a config name, case-insensitive; {@code silu} is accepted for {@code swish}.
     *
     * @throws IllegalArgumentException listing the supported names
     */
    public static NonLinearity parse(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.equals("silu")) {
            return SWISH;
        }
        for (NonLinearity f : values()) {
            if (f.configName.equals(n)) {
                return f;
            }
        }
        throw new IllegalArgumentException("non_linearity \"" + name + "\" is not supported (expected one of "
                + Arrays.stream(values()).map(NonLinearity::configName).toList() + " or silu)");
    }

    /** {@code f(x)}. */
    public double apply(double x) {
        return switch (this) {
            case RELU -> x > 0 ? x : 0;
            case SWISH -> x * sigmoid(x);
            case GELU -> x * phi(x);
            case TANH -> Math.tanh(x);
        };
    }

    /** {@code f'(x)}. */
    public double derivative(double x) {
        return switch (this) {
            case RELU -> x > 0 ? 1 : 0;
            case SWISH -> {
                double s = sigmoid(x);
                yield s * (1 + x * (1 - s));
            }
            case GELU -> phi(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
            case TANH -> {
                double t = Math.tanh(x);
                yield 1 - t * t;
            }
        };
    }

    private static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    /** The standard normal CDF {@code Φ(x) = erfc(−x/√2)/2}, accurate in the far tails too. */
    static double phi(double x) {
        return 0.5 * erfc(-x * SQRT_HALF);
    }

    /** The error function, to about 1e-15 relative. */
    public static double erf(double x) {
        return Math.abs(x) < 2.5 ? erfSeries(x) : Math.copySign(1 - erfcFraction(Math.abs(x)), x);
    }

    /** The complementary error function {@code 1 − erf(x)}, without cancellation for large {@code x}. */
    public static double erfc(double x) {
        if (x >= 2.5) {
            return erfcFraction(x);
        }
        if (x <= -2.5) {
            return 2 - erfcFraction(-x);
        }
        return 1 - erfSeries(x);
    }

    /** {@code erf(x) = 2/√π · Σ_n (−1)^n x^(2n+1) / (n!·(2n+1))}, for {@code |x| < 2.5}. */
    private static double erfSeries(double x) {
        double x2 = x * x;
        double term = x;
        double sum = x;
        for (int n = 1; n < 100 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
            term *= -x2 / n;
            sum += term / (2 * n + 1);
        }
        return TWO_OVER_SQRT_PI * sum;
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
