package dev.tailor.generate;

import dev.tailor.Shared;
import dev.tailor.model.ContextOverflowException;
import dev.tailor.model.PretrainedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
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
