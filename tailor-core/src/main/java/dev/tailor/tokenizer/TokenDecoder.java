package dev.tailor.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The {@code decoder} of {@code tokenizer.json}, reduced to what it does per token: each token becomes bytes,
 * and the output as a whole loses up to {@code stripLeadingSpaces} leading spaces.
 *
 * @param byteLevel          {@code ByteLevel}: each character stands for one byte (a token with a character
 *                           outside the alphabet, such as an added token, is taken as its UTF-8 text)
 * @param spaceSymbol        the character that stands for a space ({@code ▁} for {@code Replace}/{@code Metaspace}),
 *                           or 0
 * @param byteFallback       {@code ByteFallback}: a token {@code <0xNN>} is the byte NN
 * @param stripLeadingSpaces spaces removed from the start of the output ({@code Strip} after {@code Fuse}, or
 *                           {@code Metaspace} with a prepend scheme)
 */
record TokenDecoder(boolean byteLevel, char spaceSymbol, boolean byteFallback, int stripLeadingSpaces) {

    /** The bytes one token stands for. */
    byte[] bytes(String token) {
        if (byteLevel) {
            byte[] out = new byte[token.length()];
            for (int i = 0; i < token.length(); i++) {
                int b = ByteLevelAlphabet.byteOf(token.charAt(i));
                if (b < 0) {
                    return token.getBytes(StandardCharsets.UTF_8);
                }
                out[i] = (byte) b;
            }
            return out;
        }
        if (byteFallback) {
            int b = BpeModel.byteOfToken(token);
            if (b >= 0) {
                return new byte[] {(byte) b};
            }
        }
        String text = spaceSymbol != 0 ? token.replace(spaceSymbol, ' ') : token;
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
