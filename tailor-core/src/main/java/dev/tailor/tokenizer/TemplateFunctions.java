package dev.tailor.tokenizer;

import dev.tailor.io.PythonJson;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The globals and filters Hugging Face adds to the Jinja environment of chat templates, for Jinjava:
 * {@code raise_exception(message)}, {@code strftime_now(format)}, and the filters {@code tojson} (Python's
 * {@code json.dumps}, not Jinja's HTML-safe variant) and {@code trim} (Python's {@code str.strip}).
 */
final class TemplateFunctions {
    private TemplateFunctions() {
    }

    /** {@code raise_exception(message)}: aborts rendering with the template's message. */
    static final ELFunctionDefinition RAISE_EXCEPTION = function("raise_exception", "raiseException", Object.class);

    /** {@code strftime_now(format)}: the engine clock's current time, formatted as Python's strftime. */
    static final ELFunctionDefinition STRFTIME_NOW = function("strftime_now", "strftimeNow", String.class);

    private static ELFunctionDefinition function(String name, String method, Class<?> parameter) {
        return new ELFunctionDefinition("", name, TemplateFunctions.class, method, parameter);
    }

    /** Implements {@code raise_exception}. */
    public static Object raiseException(Object message) {
        throw new RaisedByTemplate(PythonValues.str(message));
    }

    /** Implements {@code strftime_now}, reading the clock configured on the current interpreter. */
    public static String strftimeNow(String format) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        long millis = interpreter.getConfig().getDateTimeProvider().getCurrentTimeMillis();
        ZonedDateTime now = Instant.ofEpochMilli(millis).atZone(interpreter.getConfig().getTimeZone());
        return StrftimeFormatter.format(now, format, Locale.ENGLISH);
    }

    /** Thrown by {@code raise_exception}; carries the template's own message out of Jinjava. */
    static final class RaisedByTemplate extends RuntimeException {
        RaisedByTemplate(String message) {
            super(message);
        }
    }

    /**
     * Hugging Face's {@code tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}, its text
     * held to the render's output budget and its indent to {@value #MAX_INDENT} characters.
     */
    static final class ToJson implements Filter {
        /** The widest indent {@code tojson} takes, as a number of spaces or a string. */
        static final int MAX_INDENT = 64;

        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return dumps(PythonJson.HF_DEFAULT, var);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object ensureAscii = kwargs.getOrDefault("ensure_ascii", args.length > 0 ? args[0] : false);
            Object indent = kwargs.getOrDefault("indent", args.length > 1 ? args[1] : null);
            Object separators = kwargs.getOrDefault("separators", args.length > 2 ? args[2] : null);
            Object sortKeys = kwargs.getOrDefault("sort_keys", args.length > 3 ? args[3] : false);
            if (indent instanceof Number n && n.longValue() > MAX_INDENT
                    || indent instanceof CharSequence s && s.length() > MAX_INDENT) {
                throw RenderBudget.violation("calls tojson with indent=" + PythonValues.repr(indent)
                        + ", wider than the " + MAX_INDENT + " characters it may be");
            }
            return dumps(PythonJson.of(Boolean.TRUE.equals(ensureAscii), indent, (List<?>) separators,
                    Boolean.TRUE.equals(sortKeys)), var);
        }

        private static String dumps(PythonJson json, Object value) {
            try {
                return json.dumps(value, RenderBudget.maxChars());
            } catch (PythonJson.TooLongException e) {
                throw TemplateSandbox.tooLong();
            }
        }
    }

    /** Jinja's {@code trim(value, chars=None)}, which is Python's {@code str.strip(chars)}. */
    static final class Trim implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            String chars = args.length > 0 ? args[0] : null;
            return var == null ? null : PythonStrings.strip(PythonValues.str(var), chars, true, true);
        }
    }

    /**
     * Jinja's {@code replace(value, old, new, count=None)}, which is Python's {@code str.replace}, refused before it
     * builds a string longer than the output budget.
     */
    static final class Replace implements Filter {
        @Override
        public String getName() {
            return "replace";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (args.length < 2) {
                throw new ChatTemplateException("replace needs the text to replace and its replacement");
            }
            int count = args.length > 2 ? Integer.parseInt(args[2].strip()) : -1;
            return var == null ? null : PythonStrings.replace(PythonValues.str(var), args[0], args[1], count);
        }
    }
}
