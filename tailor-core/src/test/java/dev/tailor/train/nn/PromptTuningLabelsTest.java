package dev.tailor.train.nn;

import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.prefix.PrefixTuningModel;
import dev.tailor.adapt.prefix.PrefixTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningModel;
import dev.tailor.adapt.prompt.PromptTuningConfig;
import dev.tailor.adapt.prompt.PromptTuningInit;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.train.Evaluator;
import dev.tailor.train.data.Example;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.data.SequencePacker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The labels prompt tuning counts are PEFT's: {@code PeftModelForCausalLM.forward} prefixes the labels with P
 * ignored ones (prompt tuning only), so after the causal shift the last virtual token predicts an example's first
 * label. Checked on packed examples of a random tiny Llama: the count, and the training and evaluation losses
 * against PEFT's layout computed here in double precision from the inference model; prefix tuning and no adapter
 * count as before.
 */
class PromptTuningLabelsTest {
    private static final int I = CausalLmLoss.IGNORE_INDEX;
    private static final int VIRTUAL = 3;
    private static final ModelConfig CONFIG = FiniteDifferenceTest.config("llama", false);
    private static final LlamaWeights WEIGHTS = FiniteDifferenceTest.randomWeights(CONFIG, new SplittableRandom(31));

    /**
     * Four text examples (every label kept, BOS first) and two completions (their prompt ignored) of random tokens;
     * packed into sequences of 16 they fill three sequences, each with a padding tail.
     */
    static List<Example> examples() {
        SplittableRandom rnd = new SplittableRandom(17);
        List<Example> out = new ArrayList<>();
        int[][] shapes = {{7, 0}, {6, 3}, {5, 0}, {9, 0}, {4, 2}, {3, 0}};
        for (int[] shape : shapes) {
            int[] ids = rnd.ints(shape[0], 3, CONFIG.vocabSize()).toArray();
            ids[0] = CONFIG.bosTokenId();
            int[] labels = ids.clone();
            Arrays.fill(labels, 0, shape[1], I);
            out.add(new Example(ids, labels, "example " + out.size()));
        }
        return out;
    }

    static List<PackedSequence> packed() {
        return new SequencePacker(16, 0).pack(examples()).sequences();
    }

    static Adapter adapter(String method) {
        return switch (method) {
            case "prompt" -> PromptTuningModel.create(PromptTuningConfig.forModel(CONFIG, VIRTUAL, PromptTuningInit.RANDOM,
                    null, null), null, null, 5);
            case "prefix" -> PrefixTuningModel.create(PrefixTuningConfig.forModel(CONFIG, VIRTUAL), 5);
            default -> throw new IllegalArgumentException(method);
        };
    }

    static TrainableLlama model(String method) {
        AdapterSites sites = method.equals("none") ? AdapterSites.NONE : adapter(method).sites();
        return TrainableLlama.create(CONFIG, WEIGHTS, name -> method.equals("none"), sites);
    }

    @ParameterizedTest
    @CsvSource({"prompt, 29", "prefix, 25", "none, 25"})
    void promptTuningAlsoCountsTheFirstLabelOfEachExample(String method, long expected) {
        long labelled = 0;
        long firstLabels = 0;
        for (Example e : examples()) {
            labelled += e.labelledTokens();
            firstLabels += e.labels()[0] != I ? 1 : 0;
        }
        assertEquals(4, firstLabels, "the four text examples label their BOS, the completions do not");
        long peft = method.equals("prompt") ? labelled : labelled - firstLabels;
        assertEquals(expected, peft);

        List<PackedSequence> sequences = packed();
        assertEquals(3, sequences.size());
        TrainableLlama model = model(method);
        long counted = 0;
        long trained = 0;
        long evaluated = 0;
        long withoutVirtual = 0;
        for (PackedSequence s : sequences) {
            counted += model.countedLabels(s);
            trained += model.forwardBackward(s, 1f).tokens();
            evaluated += model.loss(s).tokens();
            withoutVirtual += s.labelledTokens();
        }
        assertEquals(peft, counted, method + ": the trainer's divisor");
        assertEquals(peft, trained, method + ": training");
        assertEquals(peft, evaluated, method + ": evaluation");
        assertEquals(labelled - firstLabels, withoutVirtual, "PackedSequence counts without virtual tokens");
    }

    /**
     * PEFT's loss of each example alone in double precision: the inference model (no adapter) on the prompt
     * embeddings followed by the token embeddings, labels {@code [-100] * P + labels}, row i predicting label i + 1.
     */
    private static CausalLmLoss.Total peftLoss(float[] prompt, List<Example> examples) {
        int d = CONFIG.hiddenSize();
        int vocab = CONFIG.vocabSize();
        double sum = 0;
        long count = 0;
        try (LlamaModel base = new LlamaModel(CONFIG, WEIGHTS, null)) {
            for (Example e : examples) {
                int m = VIRTUAL + e.length();
                float[] input = new float[m * d];
                System.arraycopy(prompt, 0, input, 0, VIRTUAL * d);
                int[] labels = new int[m];
                Arrays.fill(labels, 0, VIRTUAL, I);
                for (int t = 0; t < e.length(); t++) {
                    WEIGHTS.embed().copyRow(e.inputIds()[t], input, (VIRTUAL + t) * d);
                    labels[VIRTUAL + t] = e.labels()[t];
                }
                float[] logits = base.logits(base.forwardEmbeddings(base.newCache(m), input, m), 0, m);
                for (int i = 0; i + 1 < m; i++) {
                    int target = labels[i + 1];
                    if (target == I) {
                        continue;
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (int v = 0; v < vocab; v++) {
                        max = Math.max(max, logits[i * vocab + v]);
                    }
                    double z = 0;
                    for (int v = 0; v < vocab; v++) {
                        z += Math.exp((double) logits[i * vocab + v] - max);
                    }
                    sum += Math.log(z) + max - logits[i * vocab + target];
                    count++;
                }
            }
        }
        return new CausalLmLoss.Total(sum, count);
    }

    @Test
    void trainingAndEvaluationLossesEqualPeftsLayout() {
        Adapter adapter = adapter("prompt");
        TrainableLlama model = TrainableLlama.create(CONFIG, WEIGHTS, name -> false, adapter.sites());
        CausalLmLoss.Total peft = peftLoss(adapter.parameters().getFirst().data(), examples());
        assertEquals(29, peft.tokens());

        CausalLmLoss.Total trained = new CausalLmLoss.Total(0, 0);
        CausalLmLoss.Total evaluated = new CausalLmLoss.Total(0, 0);
        for (PackedSequence s : packed()) {
            trained = trained.plus(model.forwardBackward(s, 1f));
            evaluated = evaluated.plus(model.loss(s));
        }
        CausalLmLoss.Total inference = new CausalLmLoss.Total(0, 0);
        try (LlamaModel view = new LlamaModel(CONFIG, WEIGHTS, null).withAdapters(List.of(adapter.sites()))) {
            assertTrue(view.predictsFirstToken());
            Evaluator evaluator = new Evaluator(view, null, null);
            for (Example e : examples()) {
                inference = inference.plus(evaluator.sequenceLoss(e.inputIds(), e.labels()));
            }
        }
        for (var actual : List.of(trained, evaluated, inference)) {
            assertEquals(peft.tokens(), actual.tokens());
            assertEquals(peft.mean(), actual.mean(), 1e-5 * Math.abs(peft.mean()), actual.toString());
        }
    }

    @Test
    void onlyTheFirstLabelIsPredictedFromTheLastVirtualToken() {
        Adapter adapter = adapter("prompt");
        Example e = examples().getFirst();
        int[] labels = new int[e.length()];
        Arrays.fill(labels, I);
        labels[0] = e.labels()[0];
        Example first = new Example(e.inputIds(), labels, "first label only");
        CausalLmLoss.Total peft = peftLoss(adapter.parameters().getFirst().data(), List.of(first));
        assertEquals(1, peft.tokens());
        try (LlamaModel view = new LlamaModel(CONFIG, WEIGHTS, null).withAdapters(List.of(adapter.sites()))) {
            CausalLmLoss.Total scored = new Evaluator(view, null, null).sequenceLoss(first.inputIds(), labels);
            assertEquals(1, scored.tokens());
            assertEquals(peft.nllSum(), scored.nllSum(), 1e-5 * peft.nllSum());
        }
    }
}
