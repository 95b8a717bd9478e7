package dev.tailor.train.nn;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Only rows that carry a loss get logits: the loss is still the cross-entropy of the full logits. */
class LossRowsTest {

    @Test
    void countedRowsAreThoseWhoseNextLabelCounts() {
        int i = CausalLmLoss.IGNORE_INDEX;
        assertArrayEquals(new int[] {1, 2, 4}, CrossEntropy.countedRows(new int[] {5, i, 7, 8, i, 9}, 6));
        assertArrayEquals(new int[0], CrossEntropy.countedRows(new int[] {5, i, i}, 3));
    }

    @Test
    void noRowPredictsTheFirstLabelOfTheNextSegment() {
        int i = CausalLmLoss.IGNORE_INDEX;
        PackedSequence seq = new PackedSequence(new int[] {5, 6, 7, 8, 9, 4}, new int[] {5, 6, 7, 8, i, i},
                new int[] {0, 1, 0, 1, 2, 0}, new int[] {0, 0, 2, 2, 2, 5});
        assertArrayEquals(new int[] {0, 2}, CrossEntropy.countedRows(seq), "labels 6 and 8; 7 starts a segment");
        assertEquals(2, seq.labelledTokens());
    }

    @Test
    void theLossOfTheLossRowsEqualsTheCrossEntropyOfTheFullLogits() {
        ModelConfig c = FiniteDifferenceTest.config("llama", true);
        TrainableLlama model = TrainableLlama.create(c, FiniteDifferenceTest.randomWeights(c, new SplittableRandom(3)),
                name -> true);
        PackedSequence seq = FiniteDifferenceTest.packed(new SplittableRandom(4));
        float[] logits = model.logits(seq);
        double expected = 0;
        int counted = 0;
        for (int t = 0; t + 1 < seq.length(); t++) {
            int target = seq.labels()[t + 1];
            if (target == CausalLmLoss.IGNORE_INDEX) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < c.vocabSize(); v++) {
                max = Math.max(max, logits[t * c.vocabSize() + v]);
            }
            double sum = 0;
            for (int v = 0; v < c.vocabSize(); v++) {
                sum += Math.exp(logits[t * c.vocabSize() + v] - max);
            }
            expected += Math.log(sum) + max - logits[t * c.vocabSize() + target];
            counted++;
        }
        CausalLmLoss.Total eval = model.loss(seq);
        CausalLmLoss.Total trained = model.forwardBackward(seq, 1f);
        assertEquals(counted, eval.tokens());
        assertEquals(8, counted, "rows 0..10 predict labels 1..11, of which 2, 6 and 11 are ignored");
        assertEquals(expected, eval.nllSum(), 1e-4 * Math.abs(expected));
        assertEquals(eval.nllSum(), trained.nllSum(), "training and evaluation compute the same rows alike");
    }

    @Test
    void aSequenceWithoutLabelsCostsNothingAndAddsNoGradient() {
        ModelConfig c = FiniteDifferenceTest.config("llama", false);
        TrainableLlama model = TrainableLlama.create(c, FiniteDifferenceTest.randomWeights(c, new SplittableRandom(5)),
                name -> true);
        PackedSequence seq = FiniteDifferenceTest.packed(new SplittableRandom(6));
        int[] none = new int[seq.length()];
        Arrays.fill(none, CausalLmLoss.IGNORE_INDEX);
        PackedSequence unlabelled = new PackedSequence(seq.tokens(), none, seq.positions(), seq.segmentStarts());
        CausalLmLoss.Total total = model.forwardBackward(unlabelled, 1f);
        assertEquals(0, total.tokens());
        assertEquals(0.0, total.nllSum());
        for (Parameter p : model.parameters()) {
            for (float g : p.grad()) {
                assertTrue(g == 0f, p.name() + " got a gradient");
            }
        }
    }
}
