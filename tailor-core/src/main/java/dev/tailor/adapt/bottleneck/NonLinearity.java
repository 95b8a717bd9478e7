package dev.tailor.adapt.bottleneck;

import dev.tailor.tensor.Gelu;

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
    /**
     * The exact GELU {@code x·Φ(x) = x·(1 + erf(x/√2))/2} (PyTorch's default {@code gelu}, not the tanh form), as
     * {@link Gelu}.
     */
    GELU("gelu"),
    /** {@code tanh(x)}. */
    TANH("tanh");

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
            case GELU -> Gelu.value(x);
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
            case GELU -> Gelu.derivative(x);
            case TANH -> {
                double t = Math.tanh(x);
                yield 1 - t * t;
            }
        };
    }

    private static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }
}
