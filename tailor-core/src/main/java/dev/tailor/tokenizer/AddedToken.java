package dev.tailor.tokenizer;

/**
 * One entry of {@code added_tokens} in {@code tokenizer.json}: a token matched in the raw text before
 * normalization and pre-tokenization.
 *
 * @param id         the token id
 * @param content    the literal text
 * @param special    whether it is a special token (skipped by {@code decode(ids, true)})
 * @param lstrip     whether a match swallows the whitespace on its left
 * @param rstrip     whether a match swallows the whitespace on its right
 * @param singleWord whether it matches only as a whole word
 * @param normalized whether it is matched in the normalized text rather than the raw text
 */
public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip,
                         boolean singleWord, boolean normalized) {
}
