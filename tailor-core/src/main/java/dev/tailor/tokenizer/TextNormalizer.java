package dev.tailor.tokenizer;

import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The {@code normalizer} of {@code tokenizer.json}, applied to each stretch of text between added tokens. */
sealed interface TextNormalizer {

    /** The normalized text. */
    String apply(String text);

    /** {@code Prepend}: adds {@code prepend} in front of non-empty text. */
    record Prepend(String prepend) implements TextNormalizer {
        @Override
        public String apply(String text) {
            return text.isEmpty() ? text : prepend + text;
        }
    }

    /** {@code Replace}: replaces every match of a literal or regex pattern by {@code content}. */
    record Replace(Pattern pattern, String content) implements TextNormalizer {
        @Override
        public String apply(String text) {
            return pattern.matcher(text).replaceAll(Matcher.quoteReplacement(content));
        }
    }

    /** {@code NFC}, {@code NFD}, {@code NFKC}, {@code NFKD}: a Unicode normalization form. */
    record UnicodeForm(Normalizer.Form form) implements TextNormalizer {
        @Override
        public String apply(String text) {
            return Normalizer.isNormalized(text, form) ? text : Normalizer.normalize(text, form);
        }
    }

    /** {@code Lowercase}. */
    record Lowercase() implements TextNormalizer {
        @Override
        public String apply(String text) {
            return text.toLowerCase(Locale.ROOT);
        }
    }

    /** {@code Sequence}: each normalizer in turn. */
    record Sequence(List<TextNormalizer> normalizers) implements TextNormalizer {
        @Override
        public String apply(String text) {
            String result = text;
            for (TextNormalizer n : normalizers) {
                result = n.apply(result);
            }
            return result;
        }
    }
}
