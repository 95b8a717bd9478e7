package dev.tailor.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text, leftmost first and longest first at a position, honouring {@code single_word},
 * {@code lstrip} and {@code rstrip}, and cuts the text into token and text segments.
 */
final class AddedTokenMatcher {

    /**
     * A piece of the input: an added token ({@code id >= 0}) or text to normalize and encode ({@code id == -1}).
     *
     * @param atStart whether the piece begins at the start of the input
     */
    record Segment(String text, int id, boolean atStart) {
    }

    /** A token to look for, with the text it is matched as. */
    private record Candidate(AddedToken token, String pattern) {
    }

    private final Map<Character, List<Candidate>> byFirstChar = new HashMap<>();
    private final boolean[] firstChars = new boolean[65536];

    /** A matcher for {@code tokens}, each matched as {@code pattern(token)} (empty patterns are ignored). */
    AddedTokenMatcher(List<AddedToken> tokens, java.util.function.Function<AddedToken, String> pattern) {
        for (AddedToken token : tokens) {
            String p = pattern.apply(token);
            if (!p.isEmpty()) {
                byFirstChar.computeIfAbsent(p.charAt(0), c -> new ArrayList<>()).add(new Candidate(token, p));
                firstChars[p.charAt(0)] = true;
            }
        }
        for (List<Candidate> list : byFirstChar.values()) {
            list.sort(Comparator.comparingInt((Candidate c) -> c.pattern().length()).reversed());
        }
    }

    /** Whether there is nothing to match. */
    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /**
     * Cuts {@code text} at the added tokens it contains.
     *
     * @param includeSpecial whether special tokens are matched (otherwise they are ordinary text)
     * @param atStart        whether {@code text} begins at the start of the input
     */
    List<Segment> split(String text, boolean includeSpecial, boolean atStart) {
        List<Segment> segments = new ArrayList<>();
        int textStart = 0;
        int i = 0;
        while (i < text.length()) {
            Candidate match = firstChars[text.charAt(i)] ? matchAt(text, i, includeSpecial) : null;
            if (match == null) {
                i++;
                continue;
            }
            int start = i;
            int end = i + match.pattern().length();
            if (match.token().lstrip()) {
                while (start > textStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (match.token().rstrip()) {
                while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            if (start > textStart) {
                segments.add(new Segment(text.substring(textStart, start), -1, atStart && textStart == 0));
            }
            segments.add(new Segment(match.pattern(), match.token().id(), atStart && start == 0));
            textStart = end;
            i = end;
        }
        if (textStart < text.length() || segments.isEmpty()) {
            segments.add(new Segment(text.substring(textStart), -1, atStart && textStart == 0));
        }
        return segments;
    }

    private Candidate matchAt(String text, int i, boolean includeSpecial) {
        List<Candidate> candidates = byFirstChar.get(text.charAt(i));
        if (candidates == null) {
            return null;
        }
        for (Candidate c : candidates) {
            if ((includeSpecial || !c.token().special()) && text.startsWith(c.pattern(), i)
                    && (!c.token().singleWord() || isWholeWord(text, i, i + c.pattern().length()))) {
                return c;
            }
        }
        return null;
    }

    private static boolean isWholeWord(String text, int start, int end) {
        boolean before = start == 0 || !isWordChar(text.codePointBefore(start));
        boolean after = end == text.length() || !isWordChar(text.codePointAt(end));
        return before && after;
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_';
    }
}
