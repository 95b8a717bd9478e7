package dev.tailor.tokenizer;

import dev.tailor.io.PythonJson;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;

import java.math.BigDecimal;
import java.util.Map;
import java.util.StringJoiner;

/**
 * How jinja2 prints values ({@code {{ x }}} is Python's {@code str(x)}): {@code True}/{@code False}, floats as
 * Python's repr ({@code 1e-05}), lists and dicts as Python literals ({@code ['a', 1]}, {@code {'k': None}}).
 * Jinjava prints Java's {@code toString} instead, so its interpreters are made by {@link #FACTORY}, whose
 * interpreters convert with {@link #str}. A null prints as the empty string: Jinjava does not tell an undefined
 * variable (empty in jinja2) from a defined None, and undefined is by far the commoner case in chat templates.
 */
final class PythonValues {
    private PythonValues() {
    }

    /** Makes interpreters that print values as Python does. */
    static final InterpreterFactory FACTORY = new InterpreterFactory() {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new PythonPrintingInterpreter(orig);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig config) {
            return new PythonPrintingInterpreter(application, context, config);
        }
    };

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
        return switch (value) {
            case null -> "None";
            case Boolean b -> b ? "True" : "False";
            case CharSequence s -> stringRepr(s.toString());
            case Double d -> PythonJson.floatRepr(d);
            case Float f -> PythonJson.floatRepr(f.doubleValue());
            case BigDecimal d -> PythonJson.floatRepr(d.doubleValue());
            case Map<?, ?> map -> {
                StringJoiner out = new StringJoiner(", ", "{", "}");
                map.forEach((k, v) -> out.add(repr(k) + ": " + repr(v)));
                yield out.toString();
            }
            case Iterable<?> items -> {
                StringJoiner out = new StringJoiner(", ", "[", "]");
                items.forEach(item -> out.add(repr(item)));
                yield out.toString();
            }
            default -> value.toString();
        };
    }

    private static String stringRepr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder out = new StringBuilder().append(quote);
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
        return out.append(quote).toString();
    }

    /** A Jinjava interpreter whose {@code {{ … }}} output follows Python's {@code str}. */
    private static final class PythonPrintingInterpreter extends JinjavaInterpreter {
        PythonPrintingInterpreter(JinjavaInterpreter orig) {
            super(orig);
        }

        PythonPrintingInterpreter(Jinjava application, Context context, JinjavaConfig config) {
            super(application, context, config);
        }

        @Override
        public String getAsString(Object object) {
            return str(object);
        }
    }
}
