package dev.tailor.generate;

import dev.tailor.model.ContextOverflowException;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;
import dev.tailor.model.SequenceChunk;
import dev.tailor.tensor.MatMul;
import dev.tailor.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Text generation with a fluent request builder:
 * <pre>{@code
 * GenerationResult r = new Generator(model).generate()
 *         .prompt("Once upon a time").maxTokens(64).temperature(0.7f).seed(1)
 *         .stop("\n\n").onToken(System.out::print)
 *         .run();
 * }</pre>
 * The prompt is prefilled in chunks; each further token is one cached decode step. Text is streamed in whole
 * characters, and never includes a stop string. A generation here and the same request in a
 * {@link ContinuousBatcher}'s batch give the same tokens, bit for bit.
 */
public final class Generator {
    /** Prompt tokens per prefill step: a server's running streams wait at most one such chunk for a new prompt. */
    public static final int PREFILL_CHUNK = 64;

    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final Set<Integer> eosIds;

    /** A generator over an opened model directory. */
    public Generator(PretrainedModel pretrained) {
        this(pretrained.model(), pretrained.tokenizer(), pretrained.eosIds());
    }

    /** A generator over a network, its tokenizer and the ids that end a sequence. */
    public Generator(LlamaModel model, Tokenizer tokenizer, Set<Integer> eosIds) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.eosIds = Set.copyOf(eosIds);
    }

    /** Starts building a request. */
    public Request generate() {
        return new Request();
    }

    /** One generation request; configure it, then {@link #run()}. */
    public final class Request {
        private int[] promptIds;
        private int maxTokens = 256;
        private SamplingParams sampling = SamplingParams.GREEDY;
        private final List<String> stops = new ArrayList<>();
        private Consumer<String> onToken = text -> { };
        private boolean ignoreEos;
        private final Set<Integer> stopTokenIds = new HashSet<>();
        private int minTokens;
        private int topLogprobs = -1;
        private Consumer<TokenLogprob> onLogprob = lp -> { };
        private PromptScoring scoring = PromptScoring.NONE;

        private Request() {
        }

        /** The prompt text, encoded with the tokenizer's special tokens (e.g. BOS). */
        public Request prompt(String text) {
            return promptIds(tokenizer.encode(text, true));
        }

        /** The prompt as ids (e.g. a rendered chat template encoded without extra specials). */
        public Request promptIds(int[] ids) {
            if (ids.length == 0) {
                throw new IllegalArgumentException("the prompt is empty");
            }
            this.promptIds = ids.clone();
            return this;
        }

        /** At most this many new tokens (default 256). */
        public Request maxTokens(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("maxTokens must be >= 0, got " + n);
            }
            this.maxTokens = n;
            return this;
        }

        /** All sampling parameters at once (default greedy). */
        public Request sampling(SamplingParams params) {
            this.sampling = Objects.requireNonNull(params);
            return this;
        }

        /** Temperature; 0 is greedy. */
        public Request temperature(float t) {
            return sampling(sampling.withTemperature(t));
        }

        /** Seed of the draws. */
        public Request seed(long seed) {
            return sampling(sampling.withSeed(seed));
        }

        /** Adds stop strings. */
        public Request stop(String... strings) {
            stops.addAll(Arrays.asList(strings));
            return this;
        }

        /** Receives text as it is generated. */
        public Request onToken(Consumer<String> callback) {
            this.onToken = Objects.requireNonNull(callback);
            return this;
        }

        /** Keeps generating past EOS tokens (for benchmarks). */
        public Request ignoreEos(boolean ignore) {
            this.ignoreEos = ignore;
            return this;
        }

        /** Adds ids that end the generation as an EOS token does (vLLM's {@code stop_token_ids}); not emitted. */
        public Request stopTokenIds(int... ids) {
            for (int id : ids) {
                stopTokenIds.add(id);
            }
            return this;
        }

        /**
         * Generates at least {@code n} tokens before an EOS token or a stop token id may come (vLLM's
         * {@code min_tokens}: their logits are -infinity until then); stop strings still apply.
         */
        public Request minTokens(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("minTokens must be >= 0, got " + n);
            }
            this.minTokens = n;
            return this;
        }

        /**
         * Reports each generated token's log-probability and its {@code top} most likely alternatives (0 for none)
         * in the result and to {@code listener} as the token is sampled.
         */
        public Request logprobs(int top, Consumer<TokenLogprob> listener) {
            if (top < 0) {
                throw new IllegalArgumentException("top log-probabilities must be >= 0, got " + top);
            }
            this.topLogprobs = top;
            this.onLogprob = Objects.requireNonNull(listener);
            return this;
        }

        /**
         * Also scores the prompt: each prompt token's log-probability given the tokens before it, and its {@code top}
         * most likely alternatives (0 for none), in the result and to {@code listener} once the prompt has run (the
         * first token unscored). With {@link #maxTokens} 0 the prompt is run and scored, and nothing generated.
         */
        public Request promptLogprobs(int top, Consumer<List<TokenLogprob>> listener) {
            if (top < 0) {
                throw new IllegalArgumentException("top log-probabilities must be >= 0, got " + top);
            }
            this.scoring = new PromptScoring(top, Objects.requireNonNull(listener));
            return this;
        }

        /**
         * Generates: the prompt in chunks of {@link #PREFILL_CHUNK} tokens, then one decode step per token, with
         * batch-invariant products, so the result is bit for bit what a {@link ContinuousBatcher} gives this request
         * among others.
         *
         * @throws ContextOverflowException if the prompt does not fit the context
         */
        public GenerationResult run() {
            Sequence s = start(PREFILL_CHUNK);
            int vocab = model.config().vocabSize();
            float[] step = new float[vocab];
            return MatMul.batchInvariant(() -> {
                while (!s.done()) {
                    SequenceChunk chunk = s.next();
                    float[][] logits = {chunk.allRows() ? new float[chunk.logitRows() * vocab] : step};
                    model.forwardBatch(List.of(chunk), logits);
                    s.accept(chunk.logits() ? logits[0] : null);
                }
                return s.result();
            });
        }

        /** The request as a sequence to run step by step, its prompt cut into chunks of {@code prefillChunk}. */
        Sequence start(int prefillChunk) {
            if (promptIds == null) {
                throw new IllegalStateException("no prompt given");
            }
            return new Sequence(model, tokenizer, eosIds, promptIds, maxTokens, sampling,
                    new StopRules(stops, stopTokenIds, ignoreEos, minTokens), onToken, topLogprobs, onLogprob, scoring,
                    prefillChunk);
        }
    }
}
