package dev.tailor.generate;

import dev.tailor.Shared;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.MethodVariant;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LoadOptions;
import dev.tailor.model.PretrainedModel;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching on the tiny Llama: a request's tokens and log-probabilities are bit-identical alone
 * ({@link Generator}), in a batch of 16 on one adapter, and in a batch mixing adapters of every method; cancelling
 * frees the place; a full line is refused; a failing callback fails its own request only.
 */
class ContinuousBatcherTest {
    private static PretrainedModel pretrained;
    private static LlamaModel base;
    private static List<String> prompts;

    @BeforeAll
    static void open() throws Exception {
        pretrained = PretrainedModel.load(Shared.require("models/tiny-llama"));
        base = pretrained.model();
        String book = Files.readString(Shared.require("data/moby-dick.txt"));
        prompts = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 24; i++) {
            // lengths from a few tokens to past two prefill chunks
            int chars = 10 + rnd.nextInt(i % 3 == 0 ? 520 : 120);
            int at = 5000 + rnd.nextInt(book.length() - 10_000);
            prompts.add(book.substring(at, at + chars));
        }
    }

    @AfterAll
    static void close() {
        if (pretrained != null) {
            pretrained.close();
        }
    }

    /** A request's outcome down to the bits of its log-probabilities. */
    private record Outcome(List<Integer> tokens, List<Integer> logprobBits, String text) {
        static Outcome of(GenerationResult r) {
            List<Integer> tokens = new ArrayList<>();
            for (int t : r.tokenIds()) {
                tokens.add(t);
            }
            List<Integer> bits = new ArrayList<>();
            for (TokenLogprob lp : r.promptLogprobs()) {
                bits.add(lp.tokenId());
                bits.add(Float.floatToRawIntBits(lp.logprob()));
            }
            for (TokenLogprob lp : r.logprobs()) {
                bits.add(Float.floatToRawIntBits(lp.logprob()));
                for (int j = 0; j < lp.topIds().length; j++) {
                    bits.add(lp.topIds()[j]);
                    bits.add(Float.floatToRawIntBits(lp.topLogprobs()[j]));
                }
            }
            return new Outcome(tokens, bits, r.text());
        }
    }

    /**
     * One request: a view, a prompt and a seed (odd seeds sample at temperature 0.9, even ones are greedy; seeds that
     * are multiples of 3 also score the prompt, every token's logits through the same products).
     */
    private record Job(LlamaModel view, String prompt, long seed) {
        Generator.Request request() {
            SamplingParams sampling = seed % 2 == 0 ? SamplingParams.GREEDY
                    : SamplingParams.GREEDY.withTemperature(0.9f).withSeed(seed);
            Generator.Request r = new Generator(view, pretrained.tokenizer(), pretrained.eosIds()).generate()
                    .prompt(prompt).maxTokens(12).sampling(sampling).ignoreEos(true).logprobs(3, lp -> { });
            return seed % 3 == 0 ? r.promptLogprobs(2, lps -> { }) : r;
        }
    }

    /** A fresh adapter of {@code variant} with every parameter perturbed, so it changes the model. */
    private static LlamaModel adapted(MethodVariant variant, long seed) {
        return adapted(base, variant, seed);
    }

    /** {@link #adapted(MethodVariant, long)} on {@code on}. */
    private static LlamaModel adapted(LlamaModel on, MethodVariant variant, long seed) {
        return adapted(on, variant, Map.of(), seed);
    }

    /** {@link #adapted(LlamaModel, MethodVariant, long)} with options beyond the variant's own. */
    private static LlamaModel adapted(LlamaModel on, MethodVariant variant, Map<String, List<String>> options,
                                      long seed) {
        Adapter a = variant.create(new AdapterBase(on.config(), on.weights(), pretrained.tokenizer(), "tiny"),
                options, seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        AdapterSites sites = a.sites();
        for (Parameter p : sites.parameters()) {
            for (int i = 0; i < p.size(); i++) {
                p.data()[i] += (float) rnd.nextDouble(-0.05, 0.05);
            }
        }
        if (sites.prefixEncoder() != null) {
            sites.prefixEncoder().encode(sites.prefix().data());
        }
        return on.withAdapters(List.of(sites));
    }

    private static MethodVariant variant(String name) {
        return MethodVariant.all().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
    }

    private static List<Outcome> batched(LlamaModel on, List<Job> jobs, AtomicInteger widest) throws Exception {
        // a chunk that lets the first step take in every prompt, so that they all decode side by side
        ContinuousBatcher.Options options = new ContinuousBatcher.Options(jobs.size(), 4096, 64);
        try (ContinuousBatcher batcher = new ContinuousBatcher(on, options,
                (sequences, rows, nanos) -> widest.accumulateAndGet(sequences, Math::max))) {
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            for (Job j : jobs) {
                futures.add(batcher.submit(j.request()).result());
            }
            List<Outcome> out = new ArrayList<>();
            for (CompletableFuture<GenerationResult> f : futures) {
                out.add(Outcome.of(f.get(60, TimeUnit.SECONDS)));
            }
            return out;
        }
    }

    private static void assertInvariant(List<Job> jobs) throws Exception {
        assertInvariant(base, jobs);
    }

    private static void assertInvariant(LlamaModel on, List<Job> jobs) throws Exception {
        List<Outcome> alone = new ArrayList<>();
        for (Job j : jobs) {
            alone.add(Outcome.of(j.request().run()));
        }
        AtomicInteger widest = new AtomicInteger();
        List<Outcome> together = batched(on, jobs, widest);
        assertTrue(widest.get() >= jobs.size() / 2, "requests ran together: at most " + widest.get() + " per step");
        for (int i = 0; i < jobs.size(); i++) {
            assertEquals(alone.get(i), together.get(i), "request " + i + " alone and in the batch");
            assertEquals(12, alone.get(i).tokens().size());
        }
    }

    @Test
    void sixteenRequestsOnOneAdapterMatchEachAloneBitForBit() throws Exception {
        LlamaModel lora = adapted(variant("lora"), 11);
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            jobs.add(new Job(lora, prompts.get(i), i));
        }
        assertInvariant(jobs);
    }

    @Test
    void aBatchMixingSixteenAdaptersMatchesEachAloneBitForBit() throws Exception {
        List<Job> jobs = new ArrayList<>();
        String prompt = prompts.get(3);
        for (int i = 0; i < 16; i++) {
            jobs.add(new Job(adapted(variant("lora"), 100 + i), prompt, 2));
        }
        assertInvariant(jobs);
        Set<List<Integer>> distinct = new HashSet<>();
        for (Job j : jobs) {
            distinct.add(Outcome.of(j.request().run()).tokens());
        }
        assertTrue(distinct.size() > 1, "sixteen adapters on one greedy prompt answer alike: adapters not applied");
    }

    @Test
    void aBatchMixingEveryMethodMatchesEachAloneBitForBit() throws Exception {
        Map<String, LlamaModel> views = new LinkedHashMap<>();
        views.put("base", base);
        MethodVariant.all().forEach(v -> views.put(v.name(), adapted(v, v.name().hashCode())));
        List<Job> jobs = new ArrayList<>();
        int i = 0;
        for (LlamaModel view : views.values()) {
            jobs.add(new Job(view, prompts.get(i % prompts.size()), i));
            jobs.add(new Job(view, prompts.get((i + 5) % prompts.size()), i + 1));
            i++;
        }
        assertInvariant(jobs);
    }

    /**
     * IA³ scaling up_proj's input runs its own up_proj product while gate_proj's is the base's: the sites whose base
     * products run together (gate and up) then run one by one, alone and batched alike.
     */
    @Test
    void anAdapterOwningOneOfTheSitesThatShareAnInputMatchesAloneBitForBit() throws Exception {
        LlamaModel ia3 = adapted(base, variant("ia3"), Map.of("target_modules", List.of("all-linear"),
                "feedforward_modules", List.of("up_proj", "down_proj")), 21);
        LlamaModel lora = adapted(variant("lora"), 22);
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            jobs.add(new Job(List.of(ia3, lora, base).get(i % 3), prompts.get(i), i));
        }
        assertInvariant(jobs);
        assertNotEquals(Outcome.of(new Job(base, prompts.get(0), 0).request().run()),
                Outcome.of(jobs.getFirst().request().run()), "the IA³ adapter changes the answer");
    }

    /** A base quantized at load to Q4_0 (its lm_head Q8_0) serves every method batch-invariantly too. */
    @Test
    void aBatchMixingEveryMethodOnAQ4_0BaseMatchesEachAloneBitForBit() throws Exception {
        try (LlamaModel q4 = LlamaModel.load(Shared.require("models/tiny-llama"), LoadOptions.quantized("Q4_0"))) {
            List<Job> jobs = new ArrayList<>();
            jobs.add(new Job(q4, prompts.get(0), 0));
            jobs.add(new Job(q4, prompts.get(1), 1));
            int i = 2;
            for (MethodVariant v : MethodVariant.all().toList()) {
                jobs.add(new Job(adapted(q4, v, v.name().hashCode()), prompts.get(i % prompts.size()), i));
                i++;
            }
            assertInvariant(q4, jobs);
        }
    }

    /**
     * Three places for twelve requests of every method (prompt and prefix tuning's virtual tokens among them), so that
     * the later ones run on the KV caches and logits arrays the earlier ones left (caches of a rounded-up capacity,
     * reset): each still matches itself alone bit for bit, and the batcher keeps at most a batch's worth of caches.
     */
    @Test
    void requestsOnTheCachesOfFinishedOnesMatchEachAloneBitForBit() throws Exception {
        List<LlamaModel> views = new ArrayList<>();
        views.add(base);
        MethodVariant.all().forEach(v -> views.add(adapted(v, v.name().hashCode() + 1)));
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            jobs.add(new Job(views.get(i % views.size()), prompts.get(i), i));
        }
        List<Outcome> alone = new ArrayList<>();
        for (Job j : jobs) {
            alone.add(Outcome.of(j.request().run()));
        }
        try (ContinuousBatcher batcher = new ContinuousBatcher(base, new ContinuousBatcher.Options(3, 64, 64),
                (s, r, n) -> { })) {
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            for (Job j : jobs) {
                futures.add(batcher.submit(j.request()).result());
            }
            for (int i = 0; i < jobs.size(); i++) {
                assertEquals(alone.get(i), Outcome.of(futures.get(i).get(60, TimeUnit.SECONDS)), "request " + i);
            }
            int pooled = batcher.pooledCaches();
            assertTrue(pooled >= 1 && pooled <= 3, pooled + " caches kept for three places");
        }
    }

    @Test
    void howAPromptIsCutChangesNothing() throws Exception {
        LlamaModel lora = adapted(variant("lora"), 5);
        for (int i = 0; i < 3; i++) {
            Job job = new Job(i == 1 ? base : lora, prompts.get(3 * i), i);
            Outcome whole = Outcome.of(job.request().run());
            for (int chunk : new int[] {1, 3, 17}) {
                try (ContinuousBatcher batcher = new ContinuousBatcher(base, new ContinuousBatcher.Options(1, chunk, 1),
                        (s, r, n) -> { })) {
                    Outcome cut = Outcome.of(batcher.submit(job.request()).result().get(60, TimeUnit.SECONDS));
                    assertEquals(whole, cut, "prompt " + 3 * i + " in chunks of " + chunk + " and of "
                            + Generator.PREFILL_CHUNK);
                }
            }
        }
    }

    @Test
    void aRequestWithNothingToRunCompletesAtOnceBesideOthers() throws Exception {
        try (ContinuousBatcher batcher = new ContinuousBatcher(base, new ContinuousBatcher.Options(4, 64, 8),
                (s, r, n) -> { })) {
            CompletableFuture<GenerationResult> running = batcher.submit(new Job(base, prompts.get(0), 2).request())
                    .result();
            GenerationResult none = batcher.submit(new Generator(base, pretrained.tokenizer(), pretrained.eosIds())
                    .generate().prompt(prompts.get(1)).maxTokens(0)).result().get(10, TimeUnit.SECONDS);
            assertEquals(0, none.tokenIds().length);
            assertEquals(FinishReason.LENGTH, none.finishReason());
            assertTrue(none.promptLogprobs().isEmpty());
            assertEquals(Outcome.of(new Job(base, prompts.get(0), 2).request().run()),
                    Outcome.of(running.get(60, TimeUnit.SECONDS)));
        }
    }

    @Test
    void thePrefillBudgetIsAChunkAloneAndAShareBesideDecodingStreams() {
        assertEquals(64, ContinuousBatcher.prefillBudget(0, 64), "nothing decodes: a whole chunk");
        assertEquals(ContinuousBatcher.STEP_ROWS - 1, ContinuousBatcher.prefillBudget(1, 64), "the step filled up");
        assertEquals(ContinuousBatcher.STEP_ROWS - 10, ContinuousBatcher.prefillBudget(10, 64));
        assertEquals(ContinuousBatcher.MIN_PREFILL, ContinuousBatcher.prefillBudget(ContinuousBatcher.STEP_ROWS, 64),
                "a few prompt tokens however many decode");
        assertEquals(ContinuousBatcher.MIN_PREFILL, ContinuousBatcher.prefillBudget(500, 64));
        assertEquals(4, ContinuousBatcher.prefillBudget(1, 4), "never more than a chunk");
        assertEquals(4, ContinuousBatcher.prefillBudget(500, 4));
    }

    @Test
    void aNewPromptJoinsDecodingStreamsAFewRowsPerStep() throws Exception {
        int streams = 6;
        List<int[]> steps = new CopyOnWriteArrayList<>();
        try (ContinuousBatcher batcher = new ContinuousBatcher(base, new ContinuousBatcher.Options(streams + 1,
                Generator.PREFILL_CHUNK, 8), (sequences, rows, nanos) -> steps.add(new int[] {sequences, rows}))) {
            CountDownLatch decoding = new CountDownLatch(streams);
            List<ContinuousBatcher.Submission> running = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                running.add(batcher.submit(new Generator(base, pretrained.tokenizer(), Set.of()).generate()
                        .promptIds(new int[] {1, 100 + i}).maxTokens(400).ignoreEos(true)
                        .onToken(t -> decoding.countDown())));
            }
            assertTrue(decoding.await(30, TimeUnit.SECONDS));
            int before = steps.size();
            int[] prompt = new SplittableRandom(3).ints(90, 3, 32000).toArray();
            GenerationResult joined = batcher.submit(new Generator(base, pretrained.tokenizer(), Set.of()).generate()
                    .promptIds(prompt).maxTokens(2).ignoreEos(true)).result().get(60, TimeUnit.SECONDS);
            assertEquals(2, joined.tokenIds().length);
            List<int[]> after = steps.subList(before, steps.size());
            int promptRows = 0;
            int promptSteps = 0;
            for (int[] step : after) {
                if (step[0] == streams + 1 && step[1] > streams + 1) {
                    int rows = step[1] - streams;
                    assertTrue(rows <= ContinuousBatcher.prefillBudget(streams, Generator.PREFILL_CHUNK),
                            rows + " prompt rows in one step beside " + streams + " decoding streams");
                    promptRows += rows;
                    promptSteps++;
                }
            }
            int budget = ContinuousBatcher.prefillBudget(streams, Generator.PREFILL_CHUNK);
            assertTrue(promptRows >= prompt.length - budget && promptSteps >= prompt.length / budget,
                    "the prompt ran a few rows at a time: " + promptRows + " rows in " + promptSteps + " steps");
            for (ContinuousBatcher.Submission s : running) {
                s.cancel();
            }
        }
    }

    @Test
    void aCancelledRequestLeavesAndTheNextOneRuns() throws Exception {
        CountDownLatch first = new CountDownLatch(1);
        try (ContinuousBatcher batcher = new ContinuousBatcher(base, new ContinuousBatcher.Options(4, 64, 4),
                (s, r, n) -> { })) {
            Generator.Request longOne = new Generator(base, pretrained.tokenizer(), Set.of()).generate()
                    .prompt(prompts.get(0)).maxTokens(200).ignoreEos(true).onToken(t -> first.countDown());
            ContinuousBatcher.Submission s = batcher.submit(longOne);
            assertTrue(first.await(30, TimeUnit.SECONDS));
            s.cancel();
            assertThrows(CancellationException.class, () -> s.result().get(30, TimeUnit.SECONDS),
                    "a cancelled request's result is cancelled");
            GenerationResult next = batcher.submit(new Job(base, prompts.get(1), 4).request()).result()
                    .get(30, TimeUnit.SECONDS);
            assertEquals(12, next.tokenIds().length);
            assertEquals(0, batcher.running());
        }
    }

    @Test
    void aFullLineIsRefused() throws Exception {
        try (ContinuousBatcher batcher = new ContinuousBatcher(base, new ContinuousBatcher.Options(1, 64, 2),
                (s, r, n) -> { })) {
            List<ContinuousBatcher.Submission> accepted = new ArrayList<>();
            try (AutoCloseable pause = batcher.pause()) {
                for (int i = 0; i < 2; i++) {
                    accepted.add(batcher.submit(new Job(base, prompts.get(i), i).request()));
                }
                assertEquals(2, batcher.waiting());
                RejectedExecutionException e = assertThrows(RejectedExecutionException.class,
                        () -> batcher.submit(new Job(base, prompts.get(2), 0).request()));
                assertEquals("2 requests already wait for a place", e.getMessage());
            }
            for (ContinuousBatcher.Submission s : accepted) {
                assertEquals(12, s.result().get(30, TimeUnit.SECONDS).tokenIds().length, "the line runs after it");
            }
        }
    }

    @Test
    void aPromptOutsideTheVocabularyIsRefusedAtSubmission() {
        try (ContinuousBatcher batcher = new ContinuousBatcher(base, new ContinuousBatcher.Options(4, 64, 4),
                (s, r, n) -> { })) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> batcher.submit(
                    new Generator(base, pretrained.tokenizer(), Set.of()).generate().promptIds(new int[] {1, 32000})));
            assertEquals("prompt token id 32000 is outside the model's vocabulary [0, 32000)", e.getMessage());
            assertEquals(0, batcher.waiting());
        }
    }

    @Test
    void aFailingCallbackFailsItsOwnRequestOnly() throws Exception {
        try (ContinuousBatcher batcher = new ContinuousBatcher(base, new ContinuousBatcher.Options(4, 64, 4),
                (s, r, n) -> { })) {
            ContinuousBatcher.Submission bad = batcher.submit(new Job(base, prompts.get(0), 0).request()
                    .onToken(t -> {
                        throw new IllegalStateException("the client went away");
                    }));
            ContinuousBatcher.Submission good = batcher.submit(new Job(base, prompts.get(1), 0).request());
            ExecutionException e = assertThrows(ExecutionException.class, () -> bad.result().get(30, TimeUnit.SECONDS));
            assertEquals("the client went away", e.getCause().getMessage());
            assertEquals(12, good.result().get(30, TimeUnit.SECONDS).tokenIds().length);
        }
    }
}
