package dev.tailor.generate;

import dev.tailor.Shared;
import dev.tailor.model.ContextOverflowException;
import dev.tailor.model.PretrainedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generation on the tiny Llama: greedy equals the argmax chain, seeds reproduce, stops and limits hold. */
class GeneratorTest {
    private static PretrainedModel model;

    @BeforeAll
    static void open() {
        model = PretrainedModel.load(Shared.require("models/tiny-llama"));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void greedyFollowsTheArgmaxOfFullForwardPasses() {
        GenerationResult r = new Generator(model.model(), model.tokenizer(), Set.of()).generate()
                .prompt("Once upon a time").maxTokens(8).run();
        int[] prompt = model.tokenizer().encode("Once upon a time", true);
        assertEquals(1, prompt[0], "BOS first");
        int[] seq = prompt;
        for (int expected : r.tokenIds()) {
            var m = model.model();
            float[] logits = m.logits(m.forward(m.newCache(seq.length), seq), seq.length - 1, seq.length);
            assertEquals(Sampler.argmax(logits), expected);
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = expected;
        }
        assertEquals(8, r.tokenIds().length);
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(model.tokenizer().decode(r.tokenIds(), true), r.text());
    }

    @Test
    void aScoredPromptHasTheLogSoftmaxOfAFullForwardPassAtEveryPosition() {
        String text = "Call me Ishmael. Some years ago";
        int[] prompt = model.tokenizer().encode(text, true);
        List<String> events = new ArrayList<>();
        GenerationResult r = new Generator(model).generate().prompt(text).maxTokens(3)
                .promptLogprobs(2, lps -> events.add("prompt " + lps.size())).onToken(t -> events.add("token"))
                .run();
        assertEquals("prompt " + prompt.length, events.getFirst(), "the prompt's scores come before any text");
        List<TokenLogprob> scored = r.promptLogprobs();
        assertEquals(prompt.length, scored.size());
        assertFalse(scored.getFirst().scored(), "nothing predicts the first token");
        assertEquals(prompt[0], scored.getFirst().tokenId());
        var m = model.model();
        float[] hidden = m.forward(m.newCache(prompt.length), prompt);
        for (int p = 1; p < prompt.length; p++) {
            float[] logits = m.logits(hidden, p - 1, p);
            TokenLogprob expected = TokenLogprob.of(logits, prompt[p], 2);
            TokenLogprob got = scored.get(p);
            assertEquals(prompt[p], got.tokenId());
            assertEquals(expected.logprob(), got.logprob(), 1e-4, "position " + p);
            for (int j = 0; j < 2; j++) {
                assertEquals(expected.topLogprobs()[j], got.topLogprobs()[j], 1e-4, "position " + p + ", top " + j);
            }
            assertTrue(got.logprob() <= got.topLogprobs()[0]);
        }
        GenerationResult plain = new Generator(model).generate().prompt(text).maxTokens(3).run();
        assertArrayEquals(plain.tokenIds(), r.tokenIds(), "scoring the prompt changes nothing generated");
        assertTrue(plain.promptLogprobs().isEmpty());
    }

    @Test
    void withNoTokensToGenerateAScoredPromptStillRuns() {
        GenerationResult r = new Generator(model).generate().prompt("The sea").maxTokens(0)
                .promptLogprobs(0, lps -> { }).run();
        assertEquals(0, r.tokenIds().length);
        assertEquals("", r.text());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(r.promptTokens(), r.promptLogprobs().size());
        assertTrue(r.promptLogprobs().stream().skip(1).allMatch(lp -> lp.scored() && lp.logprob() <= 0));
    }

    @Test
    void sameSeedSameTextOtherSeedOtherText() {
        Generator g = new Generator(model);
        SamplingParams p = SamplingParams.DEFAULT.withTemperature(1.0f).withTopP(0.95f);
        int[] a = g.generate().prompt("The sea").sampling(p.withSeed(42)).maxTokens(24).run().tokenIds();
        int[] b = g.generate().prompt("The sea").sampling(p.withSeed(42)).maxTokens(24).run().tokenIds();
        int[] c = g.generate().prompt("The sea").sampling(p.withSeed(43)).maxTokens(24).run().tokenIds();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void stopStringEndsGenerationAndIsNotEmitted() {
        Generator g = new Generator(model);
        GenerationResult free = g.generate().prompt("Once upon a time").maxTokens(20).run();
        String stop = free.text().substring(free.text().length() / 2, free.text().length() / 2 + 2);
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = g.generate().prompt("Once upon a time").maxTokens(20).stop(stop)
                .onToken(streamed::append).run();
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(free.text().substring(0, free.text().indexOf(stop)), r.text());
        assertEquals(r.text(), streamed.toString());
    }

    @Test
    void eosEndsGeneration() {
        GenerationResult free = new Generator(model).generate().prompt("Once upon a time").maxTokens(6).run();
        int eos = free.tokenIds()[3];
        GenerationResult r = new Generator(model.model(), model.tokenizer(), Set.of(eos)).generate()
                .prompt("Once upon a time").maxTokens(6).run();
        assertEquals(FinishReason.STOP, r.finishReason());
        assertArrayEquals(Arrays.copyOf(free.tokenIds(), 3), r.tokenIds());
        assertNotEquals(0, r.prefillTokensPerSecond());
    }

    @Test
    void aStopTokenIdEndsGenerationAndMinTokensHoldsEndsOff() {
        GenerationResult free = new Generator(model).generate().prompt("Once upon a time").maxTokens(8).run();
        int stop = free.tokenIds()[3];
        GenerationResult stopped = new Generator(model).generate().prompt("Once upon a time").maxTokens(8)
                .stopTokenIds(stop).run();
        assertEquals(FinishReason.STOP, stopped.finishReason());
        assertArrayEquals(Arrays.copyOf(free.tokenIds(), 3), stopped.tokenIds(), "the stop token is not emitted");
        int first = free.tokenIds()[0];
        GenerationResult held = new Generator(model.model(), model.tokenizer(), Set.of(first)).generate()
                .prompt("Once upon a time").maxTokens(8).minTokens(5).stopTokenIds(stop).run();
        assertTrue(held.tokenIds().length >= 5, "no end before 5 tokens: " + Arrays.toString(held.tokenIds()));
        for (int i = 0; i < 5; i++) {
            assertNotEquals(first, held.tokenIds()[i], "EOS held off at " + i);
            assertNotEquals(stop, held.tokenIds()[i], "the stop id held off at " + i);
        }
        GenerationResult ends = new Generator(model.model(), model.tokenizer(), Set.of(first)).generate()
                .prompt("Once upon a time").maxTokens(8).run();
        assertEquals(0, ends.tokenIds().length, "without min tokens, the first token is EOS");
        int vocab = model.model().config().vocabSize();
        assertThrows(IllegalArgumentException.class, () -> new Generator(model).generate().prompt("x")
                .stopTokenIds(vocab).run());
        assertThrows(IllegalArgumentException.class, () -> new Generator(model).generate().minTokens(-1));
    }

    @Test
    void promptLongerThanTheContextIsRefusedAndGenerationStopsAtTheContext() {
        int context = model.model().config().maxPositions();
        int[] tooLong = new int[context + 1];
        Arrays.fill(tooLong, 450);
        var e = assertThrows(ContextOverflowException.class,
                () -> new Generator(model).generate().promptIds(tooLong).run());
        assertTrue(e.getMessage().contains(Integer.toString(context)), e.getMessage());
        int[] nearlyFull = Arrays.copyOf(tooLong, context - 3);
        GenerationResult r = new Generator(model).generate().promptIds(nearlyFull).maxTokens(50).run();
        assertEquals(3, r.tokenIds().length);
        assertEquals(FinishReason.LENGTH, r.finishReason());
    }
}
