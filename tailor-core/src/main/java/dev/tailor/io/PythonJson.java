package dev.tailor.io;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} for the JSON-like values chat templates serialise (maps, lists, strings, numbers,
 * booleans, null), so that {@code tojson} output matches Hugging Face's character for character: the same
 * separators ({@code ", "} and {@code ": "}, or {@code ","} and {@code ": "} when indenting), the same string
 * escapes, and Python's {@code repr} of floats ({@code 1e-05}, {@code 100.0}, {@code 1e+20}).
 *
 * @param ensureAscii    escape every non-ASCII character as a {@code \\u} escape of four hex digits
 * @param indent         null for one line, otherwise the text repeated per nesting level
 * @param itemSeparator  between items ({@code ", "} by default, {@code ","} when indenting)
 * @param keySeparator   between a key and its value ({@code ": "} by default)
 * @param sortKeys       write map keys in sorted order
 */
public record PythonJson(boolean ensureAscii, String indent, String itemSeparator, String keySeparator,
                         boolean sortKeys) {

    /** The settings of Hugging Face's {@code tojson} with no arguments: one line, non-ASCII kept. */
    public static final PythonJson HF_DEFAULT = of(false, null, null, false);

    /**
     * Settings as {@code json.dumps} takes them.
     *
     * @param indent     null, a number of spaces, or a string
     * @param separators null for the default, else a two-element list {@code (item_separator, key_separator)}
     */
    public static PythonJson of(boolean ensureAscii, Object indent, List<?> separators, boolean sortKeys) {
        String indentText = switch (indent) {
            case null -> null;
            case Number n -> " ".repeat((int) Math.clamp(n.longValue(), 0, Integer.MAX_VALUE));
            case String s -> s;
            default -> throw new IllegalArgumentException("tojson: indent must be a number or a string, got " + indent);
        };
        String item = indentText == null ? ", " : ",";
        String key = ": ";
        if (separators != null) {
            if (separators.size() != 2) {
                throw new IllegalArgumentException("tojson: separators must be (item_separator, key_separator), got "
                        + separators);
            }
            item = String.valueOf(separators.get(0));
            key = String.valueOf(separators.get(1));
        }
        return new PythonJson(ensureAscii, indentText, item, key, sortKeys);
    }

    /** Serialises a value. */
    public String dumps(Object value) {
        return dumps(value, Long.MAX_VALUE);
    }

    /**
     * Serialises a value into at most {@code maxChars} characters.
     *
     * @throws TooLongException as soon as the text grows longer
     */
    public String dumps(Object value, long maxChars) {
        StringBuilder out = new StringBuilder();
        write(value, 0, new Limited(out, maxChars));
        return out.toString();
    }

    /** The JSON text of a value would be longer than the caller allowed. */
    public static final class TooLongException extends RuntimeException {
        TooLongException(long maxChars) {
            super("tojson: the JSON text would be longer than " + maxChars + " characters");
        }
    }

    /** The output and its limit, checked whenever it grows by a value or a line. */
    private record Limited(StringBuilder out, long maxChars) {
        Limited append(CharSequence text) {
            out.append(text);
            if (out.length() > maxChars) {
                throw new TooLongException(maxChars);
            }
            return this;
        }

        Limited append(char c) {
            return append(String.valueOf(c));
        }
    }

    private void write(Object value, int level, Limited out) {
        switch (value) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case CharSequence s -> writeString(s.toString(), out);
            case Character c -> writeString(c.toString(), out);
            case Double d -> out.append(floatRepr(d));
            case Float f -> out.append(floatRepr(f.doubleValue()));
            case BigDecimal d -> out.append(floatRepr(d.doubleValue()));
            case Number n -> out.append(n instanceof BigInteger big ? big.toString() : Long.toString(n.longValue()));
            case Map<?, ?> map -> writeMap(map, level, out);
            case Iterable<?> items -> writeList(items, level, out);
            case Object[] array -> writeList(List.of(array), level, out);
            default -> throw new IllegalArgumentException("tojson: cannot serialise a " + value.getClass().getName());
        }
    }

    private void writeMap(Map<?, ?> map, int level, Limited out) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
        if (sortKeys) {
            entries.sort((a, b) -> keyText(a.getKey()).compareTo(keyText(b.getKey())));
        }
        out.append('{');
        for (int i = 0; i < entries.size(); i++) {
            if (i > 0) {
                out.append(itemSeparator);
            }
            newline(level + 1, out);
            writeString(keyText(entries.get(i).getKey()), out);
            out.append(keySeparator);
            write(entries.get(i).getValue(), level + 1, out);
        }
        newline(level, out);
        out.append('}');
    }

    private void writeList(Iterable<?> items, int level, Limited out) {
        if (!items.iterator().hasNext()) {
            out.append("[]");
            return;
        }
        out.append('[');
        boolean first = true;
        for (Object item : items) {
            if (!first) {
                out.append(itemSeparator);
            }
            first = false;
            newline(level + 1, out);
            write(item, level + 1, out);
        }
        newline(level, out);
        out.append(']');
    }

    private void newline(int level, Limited out) {
        if (indent != null) {
            out.append('\n');
            for (int i = 0; i < level; i++) {
                out.append(indent);
            }
        }
    }

    /** Map keys as Python converts them: strings as is, booleans as true/false, None as null, numbers as JSON. */
    private String keyText(Object key) {
        return switch (key) {
            case null -> "null";
            case CharSequence s -> s.toString();
            case Boolean b -> b ? "true" : "false";
            case Double d -> floatRepr(d);
            case Float f -> floatRepr(f.doubleValue());
            default -> key.toString();
        };
    }

    private void writeString(String s, Limited limited) {
        StringBuilder out = new StringBuilder(s.length() + 2);
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        limited.append(out.append('"'));
    }

    /**
     * Python's {@code float.__repr__}: the shortest digits that round-trip (as Java's {@link Double#toString}),
     * positional for exponents -4 ≤ e < 16, otherwise {@code d.ddde±XX}; {@code NaN}, {@code Infinity} as
     * {@code json.dumps} writes them.
     */
    public static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        int exponent = digits.length() - 1 - exact.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        String plain = exact.toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }
}
