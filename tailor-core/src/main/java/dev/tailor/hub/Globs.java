package dev.tailor.hub;

import java.util.List;
import java.util.regex.Pattern;

/**
 * File filters for {@code --include}, with Python {@code fnmatch} semantics as huggingface_hub uses them:
 * {@code *} matches any run of characters including {@code /}, {@code ?} one character, {@code [...]} a set
 * ({@code [!...]} its complement); a pattern ending in {@code /} matches everything below that folder.
 */
final class Globs {
    private final List<Pattern> patterns;

    /** A filter; no patterns means everything matches. */
    Globs(List<String> globs) {
        this.patterns = globs.stream().map(Globs::compile).toList();
    }

    /** True if the repo path matches one of the patterns, or there are none. */
    boolean matches(String path) {
        return patterns.isEmpty() || patterns.stream().anyMatch(p -> p.matcher(path).matches());
    }

    static Pattern compile(String glob) {
        String g = glob.endsWith("/") ? glob + "*" : glob;
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[' -> {
                    int close = g.indexOf(']', i + 2);
                    if (close < 0) {
                        re.append("\\[");
                    } else {
                        String set = g.substring(i + 1, close);
                        re.append('[').append(set.startsWith("!") ? "^" + quoteSet(set.substring(1)) : quoteSet(set))
                                .append(']');
                        i = close;
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    private static String quoteSet(String set) {
        return set.replace("\\", "\\\\").replace("[", "\\[").replace("&", "\\&").replace("^", "\\^");
    }
}
