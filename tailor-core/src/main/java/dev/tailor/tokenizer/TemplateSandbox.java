package dev.tailor.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.CollectionTooBigException;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.MacroTagCycleException;
import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.Importable;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.loader.ResourceLocator;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.util.ForLoop;
import jinjava.javax.el.ELContext;

import java.nio.charset.Charset;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What a chat template may do, which is what Hugging Face's templates do in its {@code ImmutableSandboxedEnvironment}:
 * the tags {@code for if set macro call raw break continue}, jinja2's filters, {@code range} and
 * {@code namespace}, the Python methods of strings, dicts and lists that read, and the attributes of
 * {@code loop}. Everything else Jinjava offers is switched off: {@code include import from extends} (which would
 * read classpath resources), Jinjava's own filters and functions (dates, hashes, YAML, {@code render}, …), and any
 * Java method or bean property of a value ({@code ''.getClass()}, {@code 'a'.repeat(n)}). Every check also
 * consults the render's {@link RenderBudget}, which is how a render that runs out of time stops.
 */
final class TemplateSandbox {
    private TemplateSandbox() {
    }

    /** The most items a list or dict may hold. */
    static final int MAX_ITEMS = 1 << 20;

    /** How deep macros may call themselves (jinja2 allows recursion; Jinjava's stack use needs a bound). */
    static final int MAX_MACRO_DEPTH = 64;

    /** The tags a template may use (with their end tags). */
    static final Set<String> TAGS = Set.of("for", "endfor", "if", "elif", "else", "endif", "set", "endset",
            "macro", "endmacro", "call", "endcall", "raw", "endraw", "break", "continue");

    /** Tags that would read another template; refused with their own message. */
    private static final Set<String> INCLUDING_TAGS = Set.of("include", "import", "from", "extends");

    /**
     * jinja2's filters as Jinjava implements them, less those whose size argument can ask for gigabytes
     * ({@code center indent wordwrap batch slice format}) and those no chat template uses; {@code tojson} and
     * {@code trim} are {@link TemplateFunctions}'.
     */
    static final Set<String> FILTERS = Set.of("abs", "attr", "capitalize", "count", "d", "default", "dictsort",
            "e", "escape", "first", "float", "groupby", "int", "join", "last", "length", "list", "lower", "map",
            "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort",
            "string", "striptags", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "wordcount");

    /** jinja2's globals that Jinjava has, and Hugging Face's. */
    static final Set<String> FUNCTIONS = Set.of(":range", ":namespace", ":raise_exception", ":strftime_now");

    /** The attributes of {@code loop} (jinja2's {@code previtem nextitem changed} Jinjava lacks). */
    private static final Set<String> LOOP_ATTRIBUTES = Set.of("index", "index0", "revindex", "revindex0",
            "first", "last", "length", "depth", "depth0");

    /** Python methods of dicts and lists that only read, as in jinja2's immutable sandbox. */
    private static final Set<String> MAP_METHODS = Set.of("items", "keys", "values", "get");
    private static final Set<String> LIST_METHODS = Set.of("index", "count");

    /** Everything Jinjava registers that a template may not use, for {@code JinjavaConfig.withDisabled}. */
    static Map<Context.Library, Set<String>> disabled() {
        Context library = new Jinjava().getGlobalContext();
        Map<Context.Library, Set<String>> disabled = new EnumMap<>(Context.Library.class);
        disabled.put(Context.Library.TAG, refused(library.getAllTags(), Tag::getName, TAGS));
        disabled.put(Context.Library.FILTER, refused(library.getAllFilters(), Filter::getName, FILTERS));
        disabled.put(Context.Library.FUNCTION, refused(library.getAllFunctions(), ELFunctionDefinition::getName,
                FUNCTIONS));
        return disabled;
    }

    private static <T extends Importable> Set<String> refused(Collection<T> all, Function<T, String> name,
                                                             Set<String> allowed) {
        return all.stream().map(name).filter(n -> !allowed.contains(n)).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The message for a tag, filter or function the sandbox switched off. */
    static String refusal(TemplateError.ErrorItem item, String name) {
        if (item == TemplateError.ErrorItem.TAG && INCLUDING_TAGS.contains(name)) {
            return "uses {% " + name + " %}: includes are not allowed, a chat template must be self-contained";
        }
        Collection<String> allowed = switch (item) {
            case TAG -> TAGS.stream().filter(t -> !t.startsWith("end")).toList();
            case FILTER -> FILTERS;
            default -> FUNCTIONS.stream().map(f -> f.substring(1)).toList();
        };
        String kind = item.name().toLowerCase(Locale.ROOT);
        String bare = name.substring(name.indexOf(':') + 1).replace("()", "");
        return "uses the " + kind + " '" + bare + "', which chat templates may not (allowed: "
                + String.join(" ", new TreeSet<>(allowed)) + ")";
    }

    /** Which limit of the sandbox an error of Jinjava's reports, completing "chat template of FILE ...", or null. */
    static String brokenLimit(TemplateError error) {
        if (error.getReason() == TemplateError.ErrorReason.DISABLED) {
            return refusal(error.getItem(), error.getFieldName());
        }
        if (error.getReason() == TemplateError.ErrorReason.OUTPUT_TOO_BIG) {
            return tooLongMessage();
        }
        for (Throwable t = error.getException(); t != null; t = t.getCause()) {
            switch (t) {
                case RenderBudget.Violation violation -> {
                    return violation.getMessage();
                }
                case OutputTooBigException ignored -> {
                    return tooLongMessage();
                }
                case CollectionTooBigException ignored -> {
                    return "builds a list or dict of more than " + MAX_ITEMS + " items";
                }
                case MacroTagCycleException ignored -> {
                    return "calls a macro recursively deeper than " + MAX_MACRO_DEPTH + " levels";
                }
                case StackOverflowError ignored -> {
                    return "nests too deeply to render";
                }
                case OutOfMemoryError ignored -> {
                    return "ran out of memory (its output budget is " + RenderBudget.maxChars() + " characters)";
                }
                default -> {
                }
            }
        }
        return null;
    }

    /** Refuses to read any template: {@code include}, {@code import} and {@code from} find nothing. */
    static final ResourceLocator NO_RESOURCES = new ResourceLocator() {
        @Override
        public String getString(String name, Charset encoding, JinjavaInterpreter interpreter) {
            throw RenderBudget.violation("includes '" + name + "': includes are not allowed, a chat template must "
                    + "be self-contained");
        }
    };

    /** The violation of a render that built text longer than its output budget. */
    static RenderBudget.Violation tooLong() {
        return RenderBudget.violation(tooLongMessage());
    }

    private static String tooLongMessage() {
        return "exceeded its output budget of " + RenderBudget.maxChars() + " characters";
    }

    /**
     * Refuses a list or dict whose text would exceed the output budget, such as a list repeating one long string
     * a thousand times: printed, joined or passed through a filter that reads it as text, it would need gigabytes.
     * Walks the value breadth-first and stops as soon as the count passes the budget.
     *
     * @return the value
     */
    static Object checkTextLength(Object value) {
        if (!(value instanceof Map<?, ?> || value instanceof Iterable<?> || value instanceof Object[])) {
            return value;
        }
        long maxChars = RenderBudget.maxChars();
        long chars = 0;
        ArrayDeque<Object> pending = new ArrayDeque<>();
        pending.add(value);
        while (!pending.isEmpty()) {
            chars += switch (pending.poll()) {
                case CharSequence text -> text.length() + 2;
                case Map<?, ?> map -> {
                    map.forEach((k, v) -> {
                        enqueue(pending, k);
                        enqueue(pending, v);
                    });
                    yield 2 + 4L * map.size();
                }
                case Collection<?> items -> {
                    items.forEach(item -> enqueue(pending, item));
                    yield 2 + 2L * items.size();
                }
                case Object[] items -> {
                    Arrays.stream(items).forEach(item -> enqueue(pending, item));
                    yield 2 + 2L * items.length;
                }
                default -> 8;
            };
            if (chars > maxChars) {
                throw tooLong();
            }
        }
        return value;
    }

    /** Queues a value for {@link #checkTextLength}; a None counts among its container's separators. */
    private static void enqueue(ArrayDeque<Object> pending, Object value) {
        if (value != null) {
            pending.add(value);
        }
    }

    /** Makes the interpreters of sandboxed renders. */
    static final InterpreterFactory INTERPRETERS = new InterpreterFactory() {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new Interpreter(orig);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig config) {
            return new Interpreter(application, context, config);
        }
    };

    /**
     * A Jinjava interpreter that prints values as Python's {@code str} ({@link PythonValues}) and refuses any
     * expression whose value's text exceeds the output budget ({@link #checkTextLength}).
     */
    private static final class Interpreter extends JinjavaInterpreter {
        Interpreter(JinjavaInterpreter orig) {
            super(orig);
        }

        Interpreter(Jinjava application, Context context, JinjavaConfig config) {
            super(application, context, config);
        }

        @Override
        public String getAsString(Object object) {
            return PythonValues.str(object);
        }

        /**
         * Records an error and, when it reports a limit of the sandbox, stops the render: Jinjava would note it and
         * carry on (a macro recursing twice per call would hit its depth 2^64 times).
         */
        @Override
        public void addError(TemplateError error) {
            super.addError(error);
            String broken = brokenLimit(error);
            if (broken != null) {
                throw RenderBudget.violation(broken);
            }
        }

        @Override
        public Object resolveELExpression(String expression, int lineNumber) {
            return checkTextLength(super.resolveELExpression(expression, lineNumber));
        }

        @Override
        public Object resolveELExpression(String expression, int lineNumber, int position) {
            return checkTextLength(super.resolveELExpression(expression, lineNumber, position));
        }
    }

    /** Runs before every node Jinjava renders: the check that stops a loop that has run out of time. */
    static final BiConsumer<Node, JinjavaInterpreter> NODE_CHECK = (node, interpreter) -> RenderBudget.check();

    /**
     * The first resolver of the chain: checks the budget, refuses every method call the sandbox does not allow, and
     * answers "undefined" for attributes of values that have none in jinja2, so that Jinjava's bean resolver
     * behind it never reaches a Java getter. Claims nothing it allows; those fall through to
     * {@link PythonMethodResolver} and Jinjava's resolvers.
     */
    static final class Guard extends ClaimingResolver {
        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            RenderBudget.check();
            if (base == null || base instanceof Map<?, ?> || isIndex(base, property)
                    || base instanceof ForLoop && LOOP_ATTRIBUTES.contains(String.valueOf(property))) {
                return null;
            }
            context.setPropertyResolved(true);
            return null;
        }

        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
            RenderBudget.check();
            String name = String.valueOf(method);
            if (mayCall(base, name)) {
                if (params != null && (base instanceof Filter || base instanceof ExpTest)) {
                    Arrays.stream(params).forEach(TemplateSandbox::checkTextLength);
                }
                return null;
            }
            throw RenderBudget.violation(isJavaMethod(base, name)
                    ? "calls the Java method " + base.getClass().getSimpleName() + "." + name
                            + "(), which templates may not"
                    : "calls " + pythonType(base) + "." + name + "(), which chat templates do not have"
                            + (base instanceof CharSequence ? " (strings have " + String.join(" ",
                                    new TreeSet<>(PythonMethodResolver.STRING_METHODS)) + ")" : ""));
        }

        private static boolean mayCall(Object base, String method) {
            return switch (base) {
                case CharSequence ignored -> PythonMethodResolver.STRING_METHODS.contains(method)
                        || method.equals(TemplateRewrites.STEP_SLICE_METHOD);
                case Map<?, ?> ignored -> MAP_METHODS.contains(method);
                case List<?> ignored -> LIST_METHODS.contains(method)
                        || method.equals(TemplateRewrites.STEP_SLICE_METHOD);
                case ForLoop ignored -> method.equals("cycle");
                case Filter ignored -> method.equals("filter");
                case ExpTest ignored -> method.equals("evaluate") || method.equals("evaluateNegated");
                case null, default -> false;
            };
        }

        private static boolean isIndex(Object base, Object property) {
            if (!(base instanceof List<?> || base instanceof Object[] || base instanceof CharSequence)) {
                return false;
            }
            return property instanceof Number || String.valueOf(property).matches("-?\\d+");
        }

        private static boolean isJavaMethod(Object base, String name) {
            return base != null && Arrays.stream(base.getClass().getMethods()).anyMatch(m -> m.getName().equals(name));
        }

        /** The value's type as a template author knows it. */
        private static String pythonType(Object base) {
            return switch (base) {
                case null -> "None";
                case CharSequence ignored -> "str";
                case Map<?, ?> ignored -> "dict";
                case List<?> ignored -> "list";
                case ForLoop ignored -> "loop";
                default -> base.getClass().getSimpleName();
            };
        }

    }
}
