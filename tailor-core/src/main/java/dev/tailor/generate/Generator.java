package dev.tailor.generate;

import dev.tailor.model.ContextOverflowException;
import dev.tailor.model.KvCache;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;
import dev.tailor.tokenizer.StreamingDecoder;
import dev.tailor.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
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
 * The prompt is prefilled in one batch; each further token is one cached decode step. Text is streamed in
 * whole characters, and never includes a stop string.
 */
public final class Generator {
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

        /**
         * Generates.
         *
         * @throws ContextOverflowException if the prompt does not fit the context
         */
        public GenerationResult run() {
            if (promptIds == null) {
                throw new IllegalStateException("no prompt given");
            }
            int context = model.contextLength();
            if (promptIds.length > context) {
                throw new ContextOverflowException(promptIds.length, context);
            }
            int budget = Math.min(maxTokens, context - promptIds.length);
            KvCache cache = model.newCache(Math.min(context, promptIds.length + budget));
            Sampler sampler = new Sampler(sampling);
            StreamingDecoder decoder = tokenizer.streamingDecoder(true);
            StopStrings stopper = new StopStrings(stops);
            StringBuilder text = new StringBuilder();
            List<Integer> seen = new ArrayList<>();
            for (int id : promptIds) {
                seen.add(id);
            }
            List<Integer> generated = new ArrayList<>();

            long t0 = System.nanoTime();
            float[] logits = budget > 0 ? model.prefill(cache, promptIds) : null;
            long t1 = System.nanoTime();
            FinishReason reason = FinishReason.LENGTH;
            for (int step = 0; step < budget; step++) {
                if (step > 0) {
                    logits = model.decode(cache, generated.getLast());
                }
                int next = sampler.sample(logits, seen.stream().mapToInt(Integer::intValue).toArray());
                if (!ignoreEos && eosIds.contains(next)) {
                    reason = FinishReason.STOP;
                    break;
                }
                generated.add(next);
                seen.add(next);
                StopStrings.Result r = stopper.feed(decoder.next(next));
                emit(r.emit(), text);
                if (r.stopped()) {
                    reason = FinishReason.STOP;
                    break;
                }
            }
            if (!stopper.stopped()) {
                StopStrings.Result r = stopper.feed(decoder.flush());
                emit(r.emit(), text);
                if (r.stopped()) {
                    reason = FinishReason.STOP;
                } else {
                    emit(stopper.flush(), text);
                }
            }
            long t2 = System.nanoTime();
            return new GenerationResult(text.toString(), generated.stream().mapToInt(Integer::intValue).toArray(),
                    promptIds.length, reason, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        }

        private void emit(String piece, StringBuilder text) {
            if (!piece.isEmpty()) {
                text.append(piece);
                onToken.accept(piece);
            }
        }
    }
}
