package dev.tailor.generate;

import dev.tailor.model.ContextOverflowException;
import dev.tailor.model.KvCache;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.SequenceChunk;
import dev.tailor.tokenizer.StreamingDecoder;
import dev.tailor.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One generation in progress, advanced one step at a time by whoever runs the model: {@link Generator} alone, or
 * {@link ContinuousBatcher} together with others. {@link #next()} gives the tokens of the next step (a chunk of the
 * prompt, or the last token generated); {@link #accept} takes that step's logits, samples, and streams text. The
 * prompt is cut into chunks at fixed positions, so a sequence does the same work whatever runs beside it.
 */
final class Sequence {
    private final LlamaModel model;
    private final Set<Integer> eosIds;
    private final int[] promptIds;
    private final int budget;
    private final int prefillChunk;
    private final StopRules rules;
    private final int topLogprobs;
    private final Consumer<String> onToken;
    private final Consumer<TokenLogprob> onLogprob;
    private final PromptScoring scoring;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final StopStrings stopper;
    private final StringBuilder text = new StringBuilder();
    private final List<Integer> generated = new ArrayList<>();
    private final List<TokenLogprob> logprobs = new ArrayList<>();
    private final List<TokenLogprob> promptLogprobs = new ArrayList<>();
    private int[] seen;
    private int seenCount;
    private KvCache cache;
    /** Where the cache comes from and goes back to, or null: made here, left to the collector. */
    private KvCachePool pool;
    private int prefilled;
    /** Where the chunk {@link #next} gave last starts, and its length. */
    private int chunkStart;
    private int chunkLength;
    private FinishReason reason;
    private long started;
    private long prefillEnd;
    private long finished;

    /**
     * A sequence over {@code model} (the view with its adapters).
     *
     * @param topLogprobs alternatives to report with each token's log-probability, or -1 for no log-probabilities
     * @param scoring     whether (and with how many alternatives) to score the prompt's tokens, and who hears it
     * @throws ContextOverflowException if the prompt does not fit the context
     * @throws IllegalArgumentException if a prompt id or a logit bias's id is outside the vocabulary (checked here,
     *                                  so that a batch never meets it)
     */
    Sequence(LlamaModel model, Tokenizer tokenizer, Set<Integer> eosIds, int[] promptIds, int maxTokens,
             SamplingParams sampling, StopRules rules, Consumer<String> onToken, int topLogprobs,
             Consumer<TokenLogprob> onLogprob, PromptScoring scoring, int prefillChunk) {
        int context = model.contextLength();
        if (promptIds.length > context) {
            throw new ContextOverflowException(promptIds.length, context);
        }
        int vocab = model.config().vocabSize();
        for (int id : promptIds) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("prompt token id " + id + " is outside the model's vocabulary [0, "
                        + vocab + ")");
            }
        }
        for (int id : sampling.logitBias().keySet()) {
            if (id >= vocab) {
                throw new IllegalArgumentException("logit bias for token id " + id + ", outside the model's "
                        + "vocabulary [0, " + vocab + ")");
            }
        }
        for (int id : rules.tokenIds()) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("stop token id " + id + " is outside the model's vocabulary [0, "
                        + vocab + ")");
            }
        }
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("the prefill chunk must be at least 1 token, got " + prefillChunk);
        }
        this.model = model;
        this.eosIds = eosIds;
        this.promptIds = promptIds;
        this.budget = Math.min(maxTokens, context - promptIds.length);
        this.prefillChunk = prefillChunk;
        this.rules = rules;
        this.topLogprobs = topLogprobs;
        this.onToken = onToken;
        this.onLogprob = onLogprob;
        this.scoring = scoring;
        this.sampler = new Sampler(sampling);
        this.decoder = tokenizer.streamingDecoder(true);
        this.stopper = new StopStrings(rules.strings());
        this.seen = Arrays.copyOf(promptIds, promptIds.length + Math.max(0, budget));
        this.seenCount = promptIds.length;
        if (budget <= 0 && !scoring.wanted()) {
            started = System.nanoTime();
            prefillEnd = started;
            finish(FinishReason.LENGTH);
        }
    }

    /** The view this sequence runs through. */
    LlamaModel model() {
        return model;
    }

    /** Whether it has finished. */
    boolean done() {
        return reason != null;
    }

    /** Prompt tokens not yet run. */
    int promptLeft() {
        return promptIds.length - prefilled;
    }

    /** Tokens the next step runs: the next prompt chunk's length, or 1 when decoding. */
    int nextTokens() {
        return nextTokens(prefillChunk);
    }

    /** Tokens the next step runs when its prompt chunk may have at most {@code maxPrompt} tokens. */
    int nextTokens(int maxPrompt) {
        return promptLeft() > 0 ? Math.min(Math.min(prefillChunk, maxPrompt), promptLeft()) : 1;
    }

    /**
     * Takes this sequence's KV cache from {@code pool} instead of making one, and gives it back there on
     * {@link #releaseCache}.
     */
    void useCaches(KvCachePool pool) {
        this.pool = pool;
    }

    /** Gives its KV cache back to its pool (if it has both); the sequence runs no step after this. */
    void releaseCache() {
        if (pool != null && cache != null) {
            pool.give(cache);
        }
        cache = null;
    }

    /** The next step's tokens; the KV cache is made on the first call. */
    SequenceChunk next() {
        return next(prefillChunk);
    }

    /**
     * The next step's tokens, a prompt chunk of at most {@code maxPrompt} tokens. How the prompt is cut does not
     * change any result: every product computes a row the same way whatever the rows beside it, and attention reads a
     * position's keys and values from the cache whichever chunk wrote them.
     */
    SequenceChunk next(int maxPrompt) {
        if (done()) {
            throw new IllegalStateException("the sequence has finished");
        }
        if (cache == null) {
            started = System.nanoTime();
            int capacity = Math.min(model.contextLength(), promptIds.length + budget);
            cache = pool == null ? model.newCache(capacity) : pool.take(model, capacity);
        }
        if (promptLeft() > 0) {
            int end = prefilled + nextTokens(maxPrompt);
            int[] chunk = Arrays.copyOfRange(promptIds, prefilled, end);
            chunkStart = prefilled;
            chunkLength = chunk.length;
            prefilled = end;
            boolean scored = scoring.wanted();
            return new SequenceChunk(model, cache, chunk, scored || end == promptIds.length, scored);
        }
        chunkLength = 0;
        return new SequenceChunk(model, cache, new int[] {generated.getLast()}, true);
    }

    /**
     * Takes the logits of the step {@link #next()} gave (null for a chunk that asked for none; every token's for a
     * prompt chunk being scored): scores the prompt's tokens, samples the next token, streams its text, and finishes
     * at EOS, a stop string or the token budget.
     */
    void accept(float[] logits) {
        if (logits == null) {
            return;
        }
        if (chunkLength > 0 && scoring.wanted()) {
            logits = score(logits);
            if (logits == null) {
                return;
            }
        }
        if (generated.isEmpty()) {
            prefillEnd = System.nanoTime();
        }
        float[] raw = topLogprobs >= 0 ? logits.clone() : null;
        if (generated.size() < rules.minTokens()) {
            suppressEnds(logits);
        }
        int next = sampler.sample(logits, Arrays.copyOf(seen, seenCount));
        if ((!rules.ignoreEos() && eosIds.contains(next)) || rules.tokenIds().contains(next)) {
            finish(FinishReason.STOP);
            return;
        }
        generated.add(next);
        seen[seenCount++] = next;
        if (raw != null) {
            TokenLogprob lp = TokenLogprob.of(raw, next, topLogprobs);
            logprobs.add(lp);
            onLogprob.accept(lp);
        }
        StopStrings.Result r = stopper.feed(decoder.next(next));
        emit(r.emit());
        if (r.stopped()) {
            finish(FinishReason.STOP);
        } else if (generated.size() == budget) {
            finish(FinishReason.LENGTH);
        }
    }

    /** Makes the tokens that would end the generation impossible, before {@link StopRules#minTokens()} tokens. */
    private void suppressEnds(float[] logits) {
        if (!rules.ignoreEos()) {
            for (int id : eosIds) {
                if (id >= 0 && id < logits.length) {
                    logits[id] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        for (int id : rules.tokenIds()) {
            logits[id] = Float.NEGATIVE_INFINITY;
        }
    }

    /**
     * Scores the prompt tokens after each row of a scored chunk's {@code [tokens, vocab]} logits; returns its last
     * row's when the chunk ends the prompt and tokens are to be generated, else null (and finishes when none are).
     */
    private float[] score(float[] all) {
        int vocab = model.config().vocabSize();
        if (chunkStart == 0) {
            promptLogprobs.add(TokenLogprob.unscored(promptIds[0]));
        }
        for (int r = 0; r < chunkLength && chunkStart + r + 1 < promptIds.length; r++) {
            promptLogprobs.add(TokenLogprob.of(all, r * vocab, vocab, promptIds[chunkStart + r + 1], scoring.top()));
        }
        if (promptLeft() > 0) {
            return null;
        }
        scoring.listener().accept(List.copyOf(promptLogprobs));
        if (budget <= 0) {
            prefillEnd = System.nanoTime();
            finish(FinishReason.LENGTH);
            return null;
        }
        return Arrays.copyOfRange(all, (chunkLength - 1) * vocab, chunkLength * vocab);
    }

    private void finish(FinishReason why) {
        reason = why;
        if (!stopper.stopped()) {
            StopStrings.Result r = stopper.feed(decoder.flush());
            emit(r.emit());
            if (r.stopped()) {
                reason = FinishReason.STOP;
            } else {
                emit(stopper.flush());
            }
        }
        finished = System.nanoTime();
        if (prefillEnd == 0) {
            prefillEnd = finished;
        }
    }

    private void emit(String piece) {
        if (!piece.isEmpty()) {
            text.append(piece);
            onToken.accept(piece);
        }
    }

    /** The outcome, once {@link #done()}. */
    GenerationResult result() {
        if (!done()) {
            throw new IllegalStateException("the sequence has not finished");
        }
        return new GenerationResult(text.toString(), generated.stream().mapToInt(Integer::intValue).toArray(),
                promptIds.length, reason, (prefillEnd - started) / 1e9, (finished - prefillEnd) / 1e9,
                List.copyOf(logprobs), List.copyOf(promptLogprobs));
    }
}
