package dev.tailor.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A BPE tokenizer as a {@code tokenizer.json} defines it: added tokens are cut out of the raw text, each stretch
 * between them is normalized, pre-tokenized into words and encoded word by word; the post-processor's (or the
 * tokenizer config's) special tokens are added around the sequence. Built by {@link Tokenizers#load}.
 *
 * <p>Thread-safe: encoding state is local to each call, and the per-word cache is concurrent.
 */
public final class BpeTokenizer implements Tokenizer {

    /**
     * What a {@code tokenizer.json} and {@code tokenizer_config.json} hold, resolved to ids.
     *
     * @param model                 the BPE model
     * @param addedTokens           {@code added_tokens}
     * @param normalizer            the normalizer, or null
     * @param preTokenizer          the pre-tokenizer
     * @param decoder               the decoder
     * @param prefix                ids added before the sequence when special tokens are asked for
     * @param suffix                ids added after it
     * @param parseSpecialByDefault whether {@link #encode(String, boolean)} matches special tokens in the text
     * @param bosId                 the BOS id or -1
     * @param eosIds                the EOS ids
     * @param padId                 the padding id or -1
     */
    record Parts(BpeModel model, List<AddedToken> addedTokens, TextNormalizer normalizer, PreTokenizer preTokenizer,
                 TokenDecoder decoder, int[] prefix, int[] suffix, boolean parseSpecialByDefault, int bosId,
                 List<Integer> eosIds, int padId) {
    }

    private final Parts parts;
    private final String[] tokens;
    private final boolean[] special;
    private final AddedTokenMatcher rawMatcher;
    private final AddedTokenMatcher normalizedMatcher;

    BpeTokenizer(Parts parts) {
        this.parts = parts;
        String[] modelTokens = parts.model().tokens();
        int size = modelTokens.length;
        for (AddedToken t : parts.addedTokens()) {
            size = Math.max(size, t.id() + 1);
        }
        tokens = java.util.Arrays.copyOf(modelTokens, size);
        special = new boolean[size];
        List<AddedToken> raw = new ArrayList<>();
        List<AddedToken> normalized = new ArrayList<>();
        for (AddedToken t : parts.addedTokens()) {
            tokens[t.id()] = t.content();
            special[t.id()] = t.special();
            (t.normalized() ? normalized : raw).add(t);
        }
        rawMatcher = new AddedTokenMatcher(raw, AddedToken::content);
        normalizedMatcher = new AddedTokenMatcher(normalized,
                t -> parts.normalizer() == null ? t.content() : parts.normalizer().apply(t.content()));
    }

    /**
     * Encodes text; special tokens written in the text are matched as the tokenizer's family does: byte-level
     * tokenizers match them (as {@code tokenizers} does), SentencePiece-style ones read them as plain text (as
     * {@code sentencepiece} does with control symbols). Non-special added tokens are always matched.
     */
    @Override
    public int[] encode(String text, boolean addSpecial) {
        return encode(text, addSpecial, parts.parseSpecialByDefault());
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (addSpecial) {
            out.addAll(parts.prefix());
        }
        List<String> words = new ArrayList<>();
        for (AddedTokenMatcher.Segment segment : rawMatcher.split(text, parseSpecial, true)) {
            if (segment.id() >= 0) {
                out.add(segment.id());
                continue;
            }
            String normalized = parts.normalizer() == null ? segment.text() : parts.normalizer().apply(segment.text());
            List<AddedTokenMatcher.Segment> pieces = normalizedMatcher.isEmpty()
                    ? List.of(new AddedTokenMatcher.Segment(normalized, -1, segment.atStart()))
                    : normalizedMatcher.split(normalized, parseSpecial, segment.atStart());
            for (AddedTokenMatcher.Segment piece : pieces) {
                if (piece.id() >= 0) {
                    out.add(piece.id());
                    continue;
                }
                words.clear();
                parts.preTokenizer().split(piece.text(), piece.atStart(), words);
                for (String word : words) {
                    parts.model().encodeWord(word, out);
                }
            }
        }
        if (addSpecial) {
            out.addAll(parts.suffix());
        }
        return out.toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecial) {
        return Utf8StreamingDecoder.decodeAll(ids, id -> bytesOf(id, skipSpecial),
                parts.decoder().stripLeadingSpaces());
    }

    @Override
    public StreamingDecoder streamingDecoder(boolean skipSpecial) {
        return new Utf8StreamingDecoder(id -> bytesOf(id, skipSpecial), parts.decoder().stripLeadingSpaces());
    }

    private byte[] bytesOf(int id, boolean skipSpecial) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary (size " + tokens.length + ")");
        }
        return skipSpecial && special[id] ? new byte[0] : parts.decoder().bytes(tokens[id]);
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public int bosId() {
        return parts.bosId();
    }

    @Override
    public List<Integer> eosIds() {
        return parts.eosIds();
    }

    /** The padding id from the tokenizer config, or -1. */
    public int padId() {
        return parts.padId();
    }

    /** Whether an id is a special added token (skipped by {@code decode(ids, true)}). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    @Override
    public String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }
}
