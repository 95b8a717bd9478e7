package dev.tailor.model;

/**
 * One sequence's part of a batched step ({@link LlamaModel#forwardBatch}): its next tokens (a decode token or a chunk
 * of its prompt), run through {@code model}, a view of the batch's base, after the positions {@code cache} holds.
 *
 * @param model   the sequence's view (the base, or the base with its adapters)
 * @param cache   the sequence's KV cache, made by {@code model}; the tokens are appended to it
 * @param tokens  the tokens, at least one
 * @param logits  whether the logits of the last token are wanted (the last chunk of a prompt, or a decode step)
 * @param allRows whether the logits of every token are wanted (a prompt being scored), {@code [tokens, vocab]}
 */
public record SequenceChunk(LlamaModel model, KvCache cache, int[] tokens, boolean logits, boolean allRows) {

    /**
     * Checks the chunk.
     *
     * @throws IllegalArgumentException when there are no tokens
     */
    public SequenceChunk {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a sequence's chunk needs at least one token");
        }
        if (allRows && !logits) {
            throw new IllegalArgumentException("a chunk asking for every token's logits asks for logits");
        }
    }

    /** A chunk that wants at most its last token's logits. */
    public SequenceChunk(LlamaModel model, KvCache cache, int[] tokens, boolean logits) {
        this(model, cache, tokens, logits, false);
    }

    /** Rows of logits this chunk wants: all its tokens', its last token's, or none. */
    public int logitRows() {
        return allRows ? tokens.length : logits ? 1 : 0;
    }
}
