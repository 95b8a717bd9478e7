package dev.tailor.tokenizer;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two source rewrites applied to chat templates before Jinjava parses them, for Python syntax Jinjava's
 * expression parser cannot handle. Only {@code {{ }}} and {@code {% %}} tags are touched and string literals are
 * skipped, so neither rewrite changes what a template means.
 * <ul>
 *   <li>The value of a named argument is put in parentheses: {@code namespace(i=messages|length - 1)} becomes
 *       {@code namespace(i=(messages|length - 1))}. Jinjava binds {@code name=value} tighter than arithmetic and
 *       would compute {@code (i=messages|length) - 1}; jinja2 takes the whole expression as the value. Macro
 *       definitions, whose defaults Jinjava reads itself, are left alone.</li>
 *   <li>A stepped slice with a literal step, {@code messages[::-1]}, becomes the method call
 *       {@code messages.py_step_slice(-1)}, which {@link PythonMethodResolver} evaluates with Python's meaning.
 *       Jinjava parses {@code [a:b]} but not the step.</li>
 * </ul>
 */
final class TemplateRewrites {
    private TemplateRewrites() {
    }

    /** The method name a stepped slice {@code [::step]} is rewritten to. */
    static final String STEP_SLICE_METHOD = "py_step_slice";

    private static final Pattern STEP_SLICE =
            Pattern.compile("\\[\\s*::\\s*(-?\\d+)\\s*]");

    /**
     * The deepest brackets may nest in one tag. Jinjava's expression parser recurses per level and, past a few
     * hundred, overflows the stack and retries for tens of seconds; real templates nest a handful deep.
     */
    static final int MAX_NESTING = 100;

    /**
     * The template with named arguments' values parenthesised and stepped slices made method calls.
     *
     * @throws ChatTemplateException when an expression nests brackets deeper than {@value #MAX_NESTING}
     */
    static String apply(String template) {
        StringBuilder out = new StringBuilder(template.length() + 16);
        int i = 0;
        while (i < template.length()) {
            int open = nextTagStart(template, i);
            if (open < 0) {
                out.append(template, i, template.length());
                break;
            }
            out.append(template, i, open + 2);
            i = rewriteTag(template, open + 2, out);
        }
        return out.toString();
    }

    private static int nextTagStart(String s, int from) {
        int expression = s.indexOf("{{", from);
        int statement = s.indexOf("{%", from);
        if (expression < 0 || statement < 0) {
            return Math.max(expression, statement);
        }
        return Math.min(expression, statement);
    }

    /** Copies one tag body from {@code i} up to and including its closing delimiter; returns the next index. */
    private static int rewriteTag(String s, int i, StringBuilder out) {
        boolean macro = s.substring(i).stripLeading().replaceFirst("^-", "").stripLeading().startsWith("macro ");
        Deque<Frame> brackets = new ArrayDeque<>();
        char lastSignificant = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (brackets.isEmpty() && (c == '}' || c == '%') && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                out.append(c).append('}');
                return i + 2;
            }
            if (c == '\'' || c == '"') {
                int end = endOfString(s, i);
                out.append(s, i, end);
                i = end;
                lastSignificant = c;
                continue;
            }
            if (!macro && isIdentifierStart(c) && (lastSignificant == '(' || lastSignificant == ',')
                    && !brackets.isEmpty() && brackets.peek().bracket == '(') {
                int end = i;
                while (end < s.length() && Character.isJavaIdentifierPart(s.charAt(end))) {
                    end++;
                }
                int eq = end;
                while (eq < s.length() && s.charAt(eq) == ' ') {
                    eq++;
                }
                if (eq + 1 < s.length() && s.charAt(eq) == '=' && s.charAt(eq + 1) != '=') {
                    out.append(s, i, eq + 1).append('(');
                    brackets.peek().namedArgumentOpen = true;
                    i = eq + 1;
                    lastSignificant = '=';
                    continue;
                }
                out.append(s, i, end);
                i = end;
                lastSignificant = 'a';
                continue;
            }
            if (c == '[') {
                Matcher slice = STEP_SLICE.matcher(s).region(i, s.length());
                if (slice.lookingAt()) {
                    out.append('.').append(STEP_SLICE_METHOD).append('(').append(slice.group(1)).append(')');
                    i = slice.end();
                    lastSignificant = ')';
                    continue;
                }
            }
            switch (c) {
                case '(', '[', '{' -> {
                    if (brackets.size() == MAX_NESTING) {
                        throw new ChatTemplateException("nests brackets more than " + MAX_NESTING
                                + " deep in one expression");
                    }
                    brackets.push(new Frame(c));
                }
                case ',' -> closeNamedArgument(brackets, out);
                case ')', ']', '}' -> {
                    closeNamedArgument(brackets, out);
                    if (!brackets.isEmpty()) {
                        brackets.pop();
                    }
                }
                default -> {
                }
            }
            out.append(c);
            if (!Character.isWhitespace(c)) {
                lastSignificant = c;
            }
            i++;
        }
        return i;
    }

    private static void closeNamedArgument(Deque<Frame> brackets, StringBuilder out) {
        if (!brackets.isEmpty() && brackets.peek().namedArgumentOpen) {
            out.append(')');
            brackets.peek().namedArgumentOpen = false;
        }
    }

    private static boolean isIdentifierStart(char c) {
        return Character.isLetter(c) || c == '_';
    }

    private static int endOfString(String s, int start) {
        char quote = s.charAt(start);
        int i = start + 1;
        while (i < s.length() && s.charAt(i) != quote) {
            i += s.charAt(i) == '\\' ? 2 : 1;
        }
        return Math.min(i + 1, s.length());
    }

    /** An open bracket and whether a parenthesised named-argument value is waiting for its ')'. */
    private static final class Frame {
        final char bracket;
        boolean namedArgumentOpen;

        Frame(char bracket) {
            this.bracket = bracket;
        }
    }
}
