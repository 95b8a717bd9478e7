package dev.tailor.tokenizer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/** Python {@code str} methods with Python's semantics (whitespace set, empty-field rules, tuple prefixes). */
final class PythonStrings {
    private PythonStrings() {
    }

    /** Calls the Python string method {@code name} on {@code s}. */
    static Object call(String s, String name, Object[] args) {
        return switch (name) {
            case "strip" -> strip(s, chars(args, 0), true, true);
            case "lstrip" -> strip(s, chars(args, 0), true, false);
            case "rstrip" -> strip(s, chars(args, 0), false, true);
            case "startswith" -> matchesAny(s, arg(args, 0, name), true);
            case "endswith" -> matchesAny(s, arg(args, 0, name), false);
            case "split" -> split(s, chars(args, 0), maxSplit(args));
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> replace(s, PythonValues.str(arg(args, 0, name)), PythonValues.str(arg(args, 1, name)),
                    args.length > 2 ? ((Number) args[2]).intValue() : -1);
            case "find" -> (long) s.indexOf(PythonValues.str(arg(args, 0, name)));
            case "count" -> count(s, PythonValues.str(arg(args, 0, name)));
            case "join" -> PythonMethodResolver.join(s, arg(args, 0, name));
            default -> throw new ChatTemplateException("str." + name + " is not supported");
        };
    }

    /** Python's {@code str.isspace} for one character. */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /** Python's {@code str.strip/lstrip/rstrip}; {@code chars} null means whitespace. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int begin = 0;
        int end = s.length();
        while (left && begin < end && stripped(s.charAt(begin), chars)) {
            begin++;
        }
        while (right && end > begin && stripped(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(begin, end);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    private static Object arg(Object[] args, int i, String method) {
        if (i >= args.length) {
            throw new ChatTemplateException("str." + method + " needs at least " + (i + 1) + " argument(s)");
        }
        return args[i];
    }

    private static String chars(Object[] args, int i) {
        return i < args.length && args[i] != null ? PythonValues.str(args[i]) : null;
    }

    private static int maxSplit(Object[] args) {
        return args.length > 1 && args[1] != null ? ((Number) args[1]).intValue() : -1;
    }

    private static boolean matchesAny(String s, Object affixes, boolean prefix) {
        if (affixes instanceof Collection<?> options) {
            return options.stream().anyMatch(o -> matchesAny(s, o, prefix));
        }
        String affix = PythonValues.str(affixes);
        return prefix ? s.startsWith(affix) : s.endsWith(affix);
    }

    /** Python's {@code str.split}: on runs of whitespace (dropping empty fields) when sep is null. */
    static List<String> split(String s, String sep, int maxSplit) {
        List<String> parts = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isSpace(s.charAt(i))) {
                    i++;
                }
                if (i == n) {
                    return parts;
                }
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(strip(s.substring(i), null, false, true));
                    return parts;
                }
                int start = i;
                while (i < n && !isSpace(s.charAt(i))) {
                    i++;
                }
                parts.add(s.substring(start, i));
            }
        }
        if (sep.isEmpty()) {
            throw new ChatTemplateException("str.split: empty separator");
        }
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out.append(previousCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            previousCased = Character.isLetter(c);
        }
        return out.toString();
    }

    /**
     * Python's {@code str.replace}; an empty {@code old} inserts the replacement around every character.
     *
     * @param count the most replacements, negative for all
     * @throws RenderBudget.Violation when the result would exceed the output budget
     */
    static String replace(String s, String old, String replacement, int count) {
        long occurrences = Math.min(count(s, old), count < 0 ? Long.MAX_VALUE : count);
        if (s.length() + occurrences * (replacement.length() - old.length()) > RenderBudget.maxChars()) {
            throw TemplateSandbox.tooLong();
        }
        StringBuilder out = new StringBuilder();
        int from = 0;
        for (long done = 0; done < occurrences; done++) {
            if (old.isEmpty()) {
                out.append(replacement);
                if (from < s.length()) {
                    out.append(s.charAt(from));
                }
                from++;
            } else {
                int at = s.indexOf(old, from);
                out.append(s, from, at).append(replacement);
                from = at + old.length();
            }
        }
        return from < s.length() ? out.append(s, from, s.length()).toString() : out.toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }
}
