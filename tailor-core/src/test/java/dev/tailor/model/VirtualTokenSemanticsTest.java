package dev.tailor.model;

import dev.tailor.Shared;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.adapt.PromptLearning;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningModel;
import dev.tailor.adapt.prompt.PromptTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningInit;
import dev.tailor.generate.GenerationResult;
import dev.tailor.generate.Generator;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.train.LikelihoodScorer;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Independent checks of what virtual tokens mean: prompt tuning with the embeddings of real tokens, and prefix tuning
 * with the base's own cached keys and values of a real text, both give the base's logits on that text followed by
 * the tokens (positions and attention as in PEFT / transformers); context limits count the virtual tokens.
 */
class VirtualTokenSemanticsTest {
    private static PretrainedModel pretrained;
    private static LlamaModel base;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void open() {
        pretrained = PretrainedModel.load(Shared.require("models/tiny-llama"));
        base = pretrained.model();
        tokenizer = pretrained.tokenizer();
    }

    @AfterAll
    static void close() {
        if (pretrained != null) {
            pretrained.close();
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static PackedSequence single(int[] tokens) {
        int[] positions = new int[tokens.length];
        for (int t = 0; t < tokens.length; t++) {
            positions[t] = t;
        }
        return new PackedSequence(tokens, tokens.clone(), positions, new int[tokens.length]);
    }

    /** Base logits of {@code prefix ++ tokens} at the rows of {@code tokens}. */
    private static float[] baseLogits(int[] prefix, int[] tokens) {
        int[] all = concat(prefix, tokens);
        return base.logits(base.forward(base.newCache(all.length), all), prefix.length, all.length);
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4f, what + " [" + i + "]");
        }
    }

    @Test
    void promptOfRealTokenEmbeddingsGivesTheBaseLogitsOnThoseTokens() {
        String text = "Call me Ishmael.";
        int[] ids = tokenizer.encode(text, true);
        PromptTuningModel prompt = PromptTuningModel.create(PromptTuningConfig.forModel(base.config(), ids.length,
                PromptTuningInit.TEXT, text, "tiny-llama"), base.weights().embed(), tokenizer, 1);
        int[] tokens = tokenizer.encode(" Some years ago, never mind how long", false);
        float[] expected = baseLogits(ids, tokens);
        LlamaModel view = base.withAdapters(List.of(prompt.sites()));
        assertClose(expected, view.logits(view.forward(view.newCache(tokens.length), tokens), 0, tokens.length),
                "inference");
        TrainableLlama trainable = TrainableLlama.create(base.config(), base.weights(), n -> false, prompt.sites());
        assertClose(expected, trainable.logits(single(tokens)), "training");
    }

    @Test
    void prefixOfTheBaseCachedKeysAndValuesGivesTheBaseLogitsOnThatText() {
        int[] text = tokenizer.encode("It is a truth universally acknowledged", true);
        int p = text.length;
        KvCache cache = base.newCache(p);
        base.forward(cache, text);
        ModelConfig c = base.config();
        int kvDim = c.kvDim();
        int width = VirtualTokens.prefixWidth(c);
        float[] values = new float[p * width];
        for (int l = 0; l < c.numLayers(); l++) {
            for (int pos = 0; pos < p; pos++) {
                for (int h = 0; h < c.numKvHeads(); h++) {
                    int src = cache.offset(h, pos);
                    int dst = pos * width + h * c.headDim();
                    for (int d = 0; d < c.headDim(); d++) {
                        values[dst + VirtualTokens.keyOffset(l, kvDim) + d] =
                                cache.keys(l)[cache.keyOffset(h) + d * cache.size() + pos];
                    }
                    System.arraycopy(cache.values(l), src, values, dst + VirtualTokens.valueOffset(l, kvDim),
                            c.headDim());
                }
            }
        }
        assertEquals(PrefixTuningConfig.forModel(c, p).width(), width);
        AdapterSites sites = new AdapterSites(Map.of(), Map.of(), null,
                new Parameter(PromptLearning.TENSOR, new long[] {p, width}, values));
        int[] tokens = tokenizer.encode(" that a single man in possession", false);
        float[] expected = baseLogits(text, tokens);
        LlamaModel view = base.withAdapters(List.of(sites));
        assertClose(expected, view.logits(view.forward(view.newCache(tokens.length), tokens), 0, tokens.length),
                "inference");
        TrainableLlama trainable = TrainableLlama.create(c, base.weights(), n -> false, sites);
        assertClose(expected, trainable.logits(single(tokens)), "training");
    }

    @Test
    void textInitRepeatsOrCutsTheInitTextIdsAsPeftDoes() {
        String text = "Hello world";
        int[] ids = tokenizer.encode(text, true);
        assertEquals(3, ids.length, Arrays.toString(ids));
        int d = base.config().hiddenSize();
        for (int p : new int[] {2, 7}) {
            PromptTuningModel prompt = PromptTuningModel.create(PromptTuningConfig.forModel(base.config(), p,
                    PromptTuningInit.TEXT, text, "tiny-llama"), base.weights().embed(), tokenizer, 1);
            float[] row = new float[d];
            for (int t = 0; t < p; t++) {
                base.weights().embed().copyRow(ids[t % ids.length], row, 0);
                assertArrayEquals(row, Arrays.copyOfRange(prompt.embeddings().data(), t * d, (t + 1) * d), "row " + t);
            }
        }
    }

    @Test
    void randomInitIsStandardNormalAndSeeded() {
        PromptTuningConfig config = PromptTuningConfig.forModel(base.config(), 20, PromptTuningInit.RANDOM, null, null);
        float[] a = PromptTuningModel.create(config, null, null, 7).embeddings().data();
        assertArrayEquals(a, PromptTuningModel.create(config, null, null, 7).embeddings().data());
        double mean = 0;
        double sq = 0;
        for (float v : a) {
            mean += v;
            sq += v * v;
        }
        mean /= a.length;
        double std = Math.sqrt(sq / a.length - mean * mean);
        assertEquals(0, mean, 0.1);
        assertEquals(1, std, 0.08);
    }

    @Test
    void contextLimitsCountTheVirtualTokensAndTruncateKeepsThem() {
        PromptTuningModel prompt = PromptTuningModel.create(PromptTuningConfig.forModel(base.config(), 16,
                PromptTuningInit.RANDOM, null, null), null, null, 3);
        LlamaModel view = base.withAdapters(List.of(prompt.sites()));
        int max = base.config().maxPositions();
        assertEquals(max - 16, view.contextLength());
        assertThrows(IllegalArgumentException.class, () -> view.newCache(max - 15));
        assertThrows(IllegalArgumentException.class, () -> view.forward(base.newCache(4), new int[] {1, 2}),
                "a cache without room for the virtual tokens is refused");
        KvCache cache = view.newCache(max - 16);
        assertEquals(max - 16, cache.capacity());
        int[] ids = tokenizer.encode("The whale", true);
        float[] first = view.prefill(cache, ids);
        assertEquals(ids.length, cache.length());
        cache.truncate(ids.length - 1);
        assertArrayEquals(first, view.decode(cache, ids[ids.length - 1]), 1e-5f);
        double scored = new LikelihoodScorer(view).score(ids, new int[] {5, 6});
        assertEquals(scored, new LikelihoodScorer(view).score(ids, new int[] {5, 6}), 1e-9);
        GenerationResult r = new Generator(view, tokenizer, Set.of()).generate().promptIds(ids)
                .maxTokens(10_000).run();
        assertEquals(max - 16 - ids.length, r.tokenIds().length, "the budget is the context left after P");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> base.withAdapters(List.of(prompt.sites(),
                prompt.sites()))).getMessage().contains("at most one"));
    }
}
