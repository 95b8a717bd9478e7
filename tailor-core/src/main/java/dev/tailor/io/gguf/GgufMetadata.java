package dev.tailor.io.gguf;

import dev.tailor.io.TensorFormatException;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * The typed key-value metadata of a GGUF file. Integers of every width are held as {@code Long} (unsigned 64-bit
 * ones as their two's-complement bits), {@code FLOAT32} as {@code Float}, {@code FLOAT64} as {@code Double},
 * booleans and strings as themselves; arrays as {@code long[]}, {@code float[]}, {@code double[]},
 * {@code boolean[]}, {@code String[]} or, for arrays of arrays, {@code Object[]}.
 */
public final class GgufMetadata {
    private final Path file;
    private final Map<String, Object> values;

    GgufMetadata(Path file, Map<String, Object> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(values);
    }

    /** The keys, in file order. */
    public Set<String> keys() {
        return values.keySet();
    }

    /** True if the key is present. */
    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** The raw value of a key (see the class comment for the types), or null when absent. */
    public Object get(String key) {
        return values.get(key);
    }

    /** A string value. */
    public String string(String key) {
        return required(key, String.class, "a string");
    }

    /** A string value, or {@code fallback} when absent. */
    public String string(String key, String fallback) {
        return has(key) ? string(key) : fallback;
    }

    /** An integer value of any width. */
    public long integer(String key) {
        return required(key, Long.class, "an integer");
    }

    /** An integer value, or {@code fallback} when absent. */
    public long integer(String key, long fallback) {
        return has(key) ? integer(key) : fallback;
    }

    /** An integer that must be at least 1 and fit an {@code int}. */
    public int positiveInt(String key) {
        long v = integer(key);
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw new TensorFormatException(file + ": metadata " + key + " is " + v + " (must be 1 to "
                    + Integer.MAX_VALUE + ")");
        }
        return (int) v;
    }

    /** A float value ({@code FLOAT32} or {@code FLOAT64}), or {@code fallback} when absent. */
    public double real(String key, double fallback) {
        Object v = values.get(key);
        return switch (v) {
            case null -> fallback;
            case Float f -> f;
            case Double d -> d;
            default -> throw wrongType(key, "a float");
        };
    }

    /** A boolean value, or {@code fallback} when absent. */
    public boolean bool(String key, boolean fallback) {
        return has(key) ? required(key, Boolean.class, "a boolean") : fallback;
    }

    /** An array of strings. */
    public String[] strings(String key) {
        return required(key, String[].class, "an array of strings");
    }

    /** An array of float32 values. */
    public float[] floats(String key) {
        return required(key, float[].class, "an array of float32");
    }

    /** An array of integers of any width. */
    public long[] integers(String key) {
        return required(key, long[].class, "an array of integers");
    }

    private <T> T required(String key, Class<T> type, String what) {
        Object v = values.get(key);
        if (v == null) {
            throw new TensorFormatException(file + ": metadata " + key + " is missing");
        }
        if (!type.isInstance(v)) {
            throw wrongType(key, what);
        }
        return type.cast(v);
    }

    private TensorFormatException wrongType(String key, String what) {
        return new TensorFormatException(file + ": metadata " + key + " must be " + what + ", got "
                + describe(values.get(key)));
    }

    private static String describe(Object v) {
        return switch (v) {
            case long[] a -> "an array of " + a.length + " integers";
            case float[] a -> "an array of " + a.length + " float32";
            case double[] a -> "an array of " + a.length + " float64";
            case boolean[] a -> "an array of " + a.length + " booleans";
            case String[] a -> "an array of " + a.length + " strings";
            case Object[] a -> "an array of " + a.length + " arrays";
            case String s -> "a string";
            default -> v.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + " " + v;
        };
    }
}
