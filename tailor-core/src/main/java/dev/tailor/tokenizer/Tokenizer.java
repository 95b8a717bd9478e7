package dev.tailor.tokenizer;

import java.util.List;

/** Text to token ids and back, as a model's {@code tokenizer.json} defines it. */
public interface Tokenizer {

    /**
     * Encodes text. Special tokens written in the text are matched as the tokenizer's family does: byte-level
     * tokenizers match them (as Hugging Face {@code tokenizers} does), SentencePiece-style ones read them as
     * plain text (as {@code sentencepiece} does with its control symbols).
     *
     * @param text        the input
     * @param addSpecial  add the special tokens the tokenizer adds around a sequence (BOS for Llama 2 per
     *                    {@code add_bos_token}; the post-processor's tokens for byte-level tokenizers)
     */
    int[] encode(String text, boolean addSpecial);

    /**
     * Encodes text, choosing whether special tokens written in the text are matched as tokens.
     *
     * @param text         the input
     * @param addSpecial   add the special tokens the tokenizer adds around a sequence
     * @param parseSpecial match special added tokens (such as {@code <|eot_id|>}) in the text; when false they
     *                     are encoded as ordinary text (non-special added tokens are always matched)
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** Decodes ids to text; special tokens are kept unless {@code skipSpecial}. */
    String decode(int[] ids, boolean skipSpecial);

    /** A decoder for a stream of ids that emits only complete UTF-8 characters. */
    StreamingDecoder streamingDecoder(boolean skipSpecial);

    /** Number of ids, including added tokens. */
    int vocabSize();

    /** The BOS id, or -1. */
    int bosId();

    /** The EOS ids (from the tokenizer config), possibly empty. */
    List<Integer> eosIds();

    /** The token string for an id (e.g. {@code ▁the}), or null if out of range. */
    String token(int id);
}
