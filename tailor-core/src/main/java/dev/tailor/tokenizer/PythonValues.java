package dev.tailor.tokenizer;

import dev.tailor.io.PythonJson;

import java.math.BigDecimal;
import java.util.Map;

/**
 * How jinja2 prints values ({@code {{ x }}} is Python's {@code str(x)}): {@code True}/{@code False}, floats as
 * Python's repr ({@code 1e-05}), lists and dicts as Python literals ({@code ['a', 1]}, {@code {'k': None}}).
 * Jinjava prints Java's {@code toString} instead, so the sandbox's interpreters convert with {@link #str}. A null
 * prints as the empty string: Jinjava does not tell an undefined variable (empty in jinja2) from a defined None, and
 * undefined is by far the commoner case in chat templates. Text longer than the render's output budget is refused
 * as it is built, however many times a list repeats the same long string.
 */
final class PythonValues {
    private PythonValues() {
    }

    /** Python's {@code str(value)}, with null as the empty string. */
    static String str(Object value) {
        return switch (value) {
            case null -> "";
            case CharSequence s -> s.toString();
            default -> repr(value);
        };
    }

    /** Python's {@code repr(value)} for JSON-like values. */
    static String repr(Object value) {
        StringBuilder out = new StringBuilder();
        repr(value, out, RenderBudget.maxChars());
        return out.toString();
    }

    private static void repr(Object value, StringBuilder out, long maxChars) {
        switch (value) {
            case null -> out.append("None");
            case Boolean b -> out.append(b ? "True" : "False");
            case CharSequence s -> stringRepr(s.toString(), out);
            case Double d -> out.append(PythonJson.floatRepr(d));
            case Float f -> out.append(PythonJson.floatRepr(f.doubleValue()));
            case BigDecimal d -> out.append(PythonJson.floatRepr(d.doubleValue()));
            case Map<?, ?> map -> {
                out.append('{');
                String separator = "";
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    out.append(separator);
                    repr(entry.getKey(), out, maxChars);
                    out.append(": ");
                    repr(entry.getValue(), out, maxChars);
                    separator = ", ";
                }
                out.append('}');
            }
            case Iterable<?> items -> {
                out.append('[');
                String separator = "";
                for (Object item : items) {
                    out.append(separator);
                    repr(item, out, maxChars);
                    separator = ", ";
                }
                out.append(']');
            }
            default -> out.append(value);
        }
        if (out.length() > maxChars) {
            throw TemplateSandbox.tooLong();
        }
    }

    private static void stringRepr(String s, StringBuilder out) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c == quote) {
                        out.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\x%02x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append(quote);
    }
}
