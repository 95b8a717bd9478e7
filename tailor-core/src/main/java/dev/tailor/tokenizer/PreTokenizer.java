package dev.tailor.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pre_tokenizer} of {@code tokenizer.json}: cuts normalized text into the words BPE encodes one by one
 * (merges never cross a word boundary), and for byte-level BPE maps each word's bytes to their characters.
 */
sealed interface PreTokenizer {

    /** GPT-2's split pattern, used by {@code ByteLevel} with {@code use_regex}. */
    Pattern GPT2_PATTERN = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    /**
     * Adds the words of {@code text} to {@code out}.
     *
     * @param atStart whether {@code text} begins at the start of the input (not after an added token)
     */
    void split(String text, boolean atStart, List<String> out);

    /** What a {@code Split} pre-tokenizer does with the pattern's matches ({@code behavior}). */
    enum Behavior { ISOLATED, REMOVED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT }

    /** Splits {@code text} around the matches of {@code pattern}; drops empty words. */
    static void splitOn(Pattern pattern, Behavior behavior, String text, List<String> out) {
        Matcher m = pattern.matcher(text);
        int last = 0;
        int pendingStart = -1;
        while (m.find()) {
            int start = m.start();
            int end = m.end();
            if (start == end) {
                continue;
            }
            switch (behavior) {
                case ISOLATED -> {
                    addIfNotEmpty(text, last, start, out);
                    out.add(text.substring(start, end));
                }
                case REMOVED -> addIfNotEmpty(text, last, start, out);
                case MERGED_WITH_PREVIOUS -> addIfNotEmpty(text, last, end, out);
                case MERGED_WITH_NEXT -> {
                    addIfNotEmpty(text, pendingStart >= 0 ? pendingStart : last, start, out);
                    pendingStart = start;
                }
            }
            last = end;
        }
        int tailStart = behavior == Behavior.MERGED_WITH_NEXT && pendingStart >= 0 ? pendingStart : last;
        addIfNotEmpty(text, tailStart, text.length(), out);
    }

    private static void addIfNotEmpty(String text, int start, int end, List<String> out) {
        if (end > start) {
            out.add(text.substring(start, end));
        }
    }

    /** {@code Split} with {@code invert: false}. */
    record Split(Pattern pattern, Behavior behavior) implements PreTokenizer {
        @Override
        public void split(String text, boolean atStart, List<String> out) {
            splitOn(pattern, behavior, text, out);
        }
    }

    /** {@code ByteLevel}: optionally a leading space and GPT-2's split, then each byte becomes its character. */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        @Override
        public void split(String text, boolean atStart, List<String> out) {
            String prefixed = addPrefixSpace && !text.startsWith(" ") ? " " + text : text;
            if (!useRegex) {
                out.add(ByteLevelAlphabet.encode(prefixed));
                return;
            }
            int from = out.size();
            splitOn(GPT2_PATTERN, Behavior.ISOLATED, prefixed, out);
            for (int i = from; i < out.size(); i++) {
                out.set(i, ByteLevelAlphabet.encode(out.get(i)));
            }
        }
    }

    /**
     * {@code Metaspace}: spaces become {@code replacement}, which is prepended per {@code prepend_scheme}; with
     * {@code split}, each replacement character starts a new word.
     */
    record Metaspace(char replacement, PrependScheme prependScheme, boolean splitWords) implements PreTokenizer {
        /** When {@code Metaspace} prepends the replacement character. */
        enum PrependScheme { ALWAYS, FIRST, NEVER }

        @Override
        public void split(String text, boolean atStart, List<String> out) {
            String replaced = text.replace(' ', replacement);
            boolean prepend = switch (prependScheme) {
                case ALWAYS -> true;
                case FIRST -> atStart;
                case NEVER -> false;
            };
            if (prepend && !replaced.isEmpty() && replaced.charAt(0) != replacement) {
                replaced = replacement + replaced;
            }
            if (!splitWords) {
                if (!replaced.isEmpty()) {
                    out.add(replaced);
                }
                return;
            }
            int start = 0;
            for (int i = 1; i < replaced.length(); i++) {
                if (replaced.charAt(i) == replacement) {
                    out.add(replaced.substring(start, i));
                    start = i;
                }
            }
            if (start < replaced.length()) {
                out.add(replaced.substring(start));
            }
        }
    }

    /**
     * No pre-tokenizer: the whole text is one word. When no token of the vocabulary has {@code boundary} after
     * another character, no merge can cross the place before a run of {@code boundary}, so the text is cut there
     * (same result, but words short enough to cache). {@code boundary} is 0 when that does not hold.
     */
    record Whole(char boundary) implements PreTokenizer {
        @Override
        public void split(String text, boolean atStart, List<String> out) {
            if (text.isEmpty()) {
                return;
            }
            if (boundary == 0) {
                out.add(text);
                return;
            }
            int start = 0;
            for (int i = 1; i < text.length(); i++) {
                if (text.charAt(i) == boundary && text.charAt(i - 1) != boundary) {
                    out.add(text.substring(start, i));
                    start = i;
                }
            }
            out.add(text.substring(start));
        }
    }

    /** {@code Sequence}: each pre-tokenizer applied to every word of the previous one. */
    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public void split(String text, boolean atStart, List<String> out) {
            List<String> words = new java.util.ArrayList<>();
            words.add(text);
            for (PreTokenizer step : steps) {
                List<String> next = new java.util.ArrayList<>(words.size() * 2);
                for (int i = 0; i < words.size(); i++) {
                    step.split(words.get(i), atStart && i == 0, next);
                }
                words = next;
            }
            out.addAll(words);
        }
    }
}
