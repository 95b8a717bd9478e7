package dev.tailor.train.nn;

import dev.tailor.Shared;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterChecks;
import dev.tailor.adapt.prefix.PrefixTuningModel;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningModel;
import dev.tailor.adapt.prompt.PromptTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningInit;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.KvCache;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompt and prefix tuning through {@link TrainableLlama} on the tiny Llama: gradients of the virtual tokens against
 * central finite differences over a packed sequence of two examples and a padding tail, checkpointing changes
 * nothing, and the training logits equal those of the inference model (prefill, then decode token by token).
 */
class VirtualTokenGradientTest {
    private static LlamaModel base;

    @BeforeAll
    static void open() {
        base = LlamaModel.load(Shared.require("models/tiny-llama"));
    }

    @AfterAll
    static void close() {
        if (base != null) {
            base.close();
        }
    }

    static Adapter adapter(String method, int virtual, long seed) {
        return switch (method) {
            case "prompt" -> PromptTuningModel.create(PromptTuningConfig.forModel(base.config(), virtual,
                    PromptTuningInit.RANDOM, null, null), null, null, seed);
            case "prefix" -> PrefixTuningModel.create(PrefixTuningConfig.forModel(base.config(), virtual), seed);
            default -> throw new IllegalArgumentException(method);
        };
    }

    /** Two examples of 6 and 5 tokens and one padding token: positions restart per segment. */
    static PackedSequence packed(SplittableRandom rnd) {
        int[] tokens = rnd.ints(12, 3, 32000).toArray();
        int[] labels = tokens.clone();
        labels[0] = CausalLmLoss.IGNORE_INDEX;
        labels[6] = CausalLmLoss.IGNORE_INDEX;
        labels[11] = CausalLmLoss.IGNORE_INDEX;
        int[] positions = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 0};
        int[] starts = {0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 11};
        return new PackedSequence(tokens, labels, positions, starts);
    }

    @ParameterizedTest
    @ValueSource(strings = {"prompt", "prefix"})
    void virtualTokenGradientsMatchFiniteDifferences(String method) {
        Adapter adapter = adapter(method, 3, 11);
        TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> false, adapter.sites());
        assertEquals(List.of(adapter.parameters().getFirst()), model.parameters());
        assertEquals(0, model.stopLayer());
        SplittableRandom rnd = new SplittableRandom(5);
        PackedSequence seq = packed(rnd);
        CausalLmLoss.Total total = model.forwardBackward(seq, 1f);
        assertEquals(9, total.tokens(), "only the real labels count");
        Parameter p = adapter.parameters().getFirst();
        double gradNorm = 0;
        for (float g : p.grad()) {
            gradNorm += g * g;
        }
        assertTrue(gradNorm > 1e-6, "the virtual tokens receive a gradient");
        for (int probe = 0; probe < 16; probe++) {
            int i = rnd.nextInt(p.size());
            double numeric = AdapterChecks.centralDifference(model, seq, p, i);
            assertEquals(numeric, p.grad()[i], 2e-3 + 2e-2 * Math.abs(numeric), method + "[" + i + "]");
        }
        float[] grads = p.grad().clone();
        p.zeroGrad();
        model.setGradientCheckpointing(true);
        model.forwardBackward(seq, 1f);
        assertArrayEquals(grads, p.grad(), 1e-6f, "checkpointing recomputes the same gradients");
    }

    /** {@link #packed} with each example's first label kept, as the packer keeps a text example's BOS. */
    static PackedSequence packedWithFirstLabels(SplittableRandom rnd) {
        PackedSequence seq = packed(rnd);
        int[] labels = seq.labels().clone();
        labels[0] = seq.tokens()[0];
        labels[6] = seq.tokens()[6];
        return new PackedSequence(seq.tokens(), labels, seq.positions(), seq.segmentStarts());
    }

    @ParameterizedTest
    @CsvSource({"prompt, 11", "prefix, 9"})
    void firstLabelsPredictedByTheLastVirtualTokenMatchFiniteDifferences(String method, int counted) {
        Adapter adapter = adapter(method, 3, 13);
        TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> false, adapter.sites());
        SplittableRandom rnd = new SplittableRandom(7);
        PackedSequence seq = packedWithFirstLabels(rnd);
        assertEquals(counted, model.countedLabels(seq), "PEFT's count: with prompt tuning the two first labels too");
        assertEquals(counted, model.loss(seq).tokens());
        CausalLmLoss.Total total = model.forwardBackward(seq, 1f);
        assertEquals(counted, total.tokens());
        Parameter p = adapter.parameters().getFirst();
        int d = base.config().hiddenSize();
        for (int probe = 0; probe < 16; probe++) {
            int i = probe < 8 ? 2 * d + rnd.nextInt(d) : rnd.nextInt(p.size());
            double numeric = AdapterChecks.centralDifference(model, seq, p, i);
            assertEquals(numeric, p.grad()[i], 2e-3 + 2e-2 * Math.abs(numeric), method + "[" + i + "]");
        }
        float[] grads = p.grad().clone();
        p.zeroGrad();
        PackedSequence ignored = new PackedSequence(seq.tokens(), packed(new SplittableRandom(7)).labels(),
                seq.positions(), seq.segmentStarts());
        model.forwardBackward(ignored, 1f);
        double changed = 0;
        for (int i = 0; i < grads.length; i++) {
            changed = Math.max(changed, Math.abs(grads[i] - p.grad()[i]));
        }
        if (method.equals("prompt")) {
            assertTrue(changed > 1e-4, "the first labels add to the gradient of the prompt (" + changed + ")");
        } else {
            assertEquals(0.0, changed, "prefix tuning does not predict a first label");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"prompt", "prefix"})
    void eachSegmentSeesTheVirtualTokensAsIfAlone(String method) {
        Adapter adapter = adapter(method, 4, 3);
        TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> false, adapter.sites());
        PackedSequence seq = packed(new SplittableRandom(9));
        float[] packed = model.logits(seq);
        int vocab = base.config().vocabSize();
        assertEquals(seq.length() * vocab, packed.length, "rows for the real tokens only");
        int[] second = java.util.Arrays.copyOfRange(seq.tokens(), 6, 11);
        float[] alone = model.logits(new PackedSequence(second, second.clone(), new int[] {0, 1, 2, 3, 4},
                new int[5]));
        for (int i = 0; i < 5 * vocab; i++) {
            assertEquals(alone[i], packed[6 * vocab + i], 1e-4f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"prompt", "prefix"})
    void trainingLogitsEqualInferenceLogitsWithTheKvCache(String method) {
        Adapter adapter = adapter(method, 5, 21);
        TrainableLlama model = TrainableLlama.create(base.config(), base.weights(), name -> false, adapter.sites());
        int[] tokens = new SplittableRandom(4).ints(10, 3, 32000).toArray();
        int n = tokens.length;
        int[] positions = new int[n];
        for (int t = 0; t < n; t++) {
            positions[t] = t;
        }
        float[] training = model.logits(new PackedSequence(tokens, tokens.clone(), positions, new int[n]));
        LlamaModel view = base.withAdapters(List.of(adapter.sites()));
        assertEquals(5, view.virtualTokens());
        KvCache cache = view.newCache(n);
        int vocab = base.config().vocabSize();
        int prefill = 4;
        float[] first = view.logits(view.forward(cache, java.util.Arrays.copyOf(tokens, prefill)), 0, prefill);
        assertEquals(prefill, cache.length());
        for (int i = 0; i < prefill * vocab; i++) {
            assertEquals(training[i], first[i], 1e-4f, "prefill row " + i / vocab);
        }
        for (int t = prefill; t < n; t++) {
            float[] step = view.decode(cache, tokens[t]);
            for (int i = 0; i < vocab; i++) {
                assertEquals(training[t * vocab + i], step[i], 1e-4f, "decode row " + t);
            }
        }
        float[] plain = base.logits(base.forward(base.newCache(n), tokens), 0, 1);
        double diff = 0;
        for (int i = 0; i < vocab; i++) {
            diff = Math.max(diff, Math.abs(plain[i] - first[i]));
        }
        assertTrue(diff > 1e-2, "the virtual tokens change the logits");
    }
}
