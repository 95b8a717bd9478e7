package dev.tailor.model;

/**
 * One sequence's part of a batched step ({@link LlamaModel#forwardBatch}): its next tokens (a decode token or a chunk
 * of its prompt), run through {@code model}, a view of the batch's base, after the positions {@code cache} holds.
 *
 * @param model  the sequence's view (the base, or the base with its adapters)
 * @param cache  the sequence's KV cache, made by {@code model}; the tokens are appended to it
 * @param tokens the tokens, at least one
 * @param logits whether the logits of the last token are wanted (the last chunk of a prompt, or a decode step)
 */
public record SequenceChunk(LlamaModel model, KvCache cache, int[] tokens, boolean logits) {

    /**
     * Checks the chunk.
     *
     * @throws IllegalArgumentException when there are no tokens
     */
    public SequenceChunk {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a sequence's chunk needs at least one token");
        }
    }
}
