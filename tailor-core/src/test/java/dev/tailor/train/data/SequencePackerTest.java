package dev.tailor.train.data;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.tailor.model.CausalLmLoss.IGNORE_INDEX;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Greedy packing: exact tokens, labels, positions and segment starts, truncation and padding counts. */
class SequencePackerTest {
    private static final int I = IGNORE_INDEX;
    private static final int PAD = 0;

    static Example example(String source, int[] ids, int[] labels) {
        return new Example(ids, labels, source);
    }

    @Test
    void packsGreedilyInOrderAndRestartsPositionsPerExample() {
        Example a = example("a", new int[] {11, 12, 13}, new int[] {I, 12, 13});
        Example b = example("b", new int[] {21, 22}, new int[] {21, 22});
        Example c = example("c", new int[] {31, 32, 33, 34}, new int[] {I, I, 33, 34});
        SequencePacker.Packing p = new SequencePacker(6, PAD).pack(List.of(a, b, c));

        assertEquals(2, p.sequences().size());
        PackedSequence first = p.sequences().get(0);
        assertArrayEquals(new int[] {11, 12, 13, 21, 22, PAD}, first.tokens());
        // b keeps its first label: the loss shifts within a segment, so only virtual tokens in front predict it
        assertArrayEquals(new int[] {I, 12, 13, 21, 22, I}, first.labels());
        assertArrayEquals(new int[] {0, 1, 2, 0, 1, 0}, first.positions());
        assertArrayEquals(new int[] {0, 0, 0, 3, 3, 5}, first.segmentStarts());

        PackedSequence second = p.sequences().get(1);
        assertArrayEquals(new int[] {31, 32, 33, 34, PAD, PAD}, second.tokens());
        assertArrayEquals(new int[] {I, I, 33, 34, I, I}, second.labels());
        assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1}, second.positions());
        assertArrayEquals(new int[] {0, 0, 0, 0, 4, 4}, second.segmentStarts());

        assertEquals(3, p.examples());
        assertEquals(0, p.truncated());
        assertEquals(1 + 2, p.paddingTokens());
    }

    @Test
    void noLabelEverAsksTheLastTokenOfOneExampleToPredictTheNext() {
        List<Example> examples = List.of(
                example("a", new int[] {1, 2, 3}, new int[] {1, 2, 3}),
                example("b", new int[] {4, 5}, new int[] {4, 5}),
                example("c", new int[] {6, 7, 8}, new int[] {6, 7, 8}),
                example("d", new int[] {9}, new int[] {9}));
        for (PackedSequence s : new SequencePacker(8, PAD).pack(examples).sequences()) {
            int predicted = 0;
            for (int t = 1; t < s.length(); t++) {
                if (s.labels()[t] != I && s.segmentStarts()[t] != t) {
                    assertEquals(s.segmentStarts()[t], s.segmentStarts()[t - 1], "label at " + t + " crosses examples");
                    assertTrue(s.attends(t, t - 1));
                    predicted++;
                }
            }
            assertEquals(predicted, s.labelledTokens(), "a segment's first label is not predicted from the sequence");
        }
    }

    @Test
    void attentionStaysInsideTheSegment() {
        PackedSequence s = new SequencePacker(5, PAD).pack(List.of(
                example("a", new int[] {1, 2}, new int[] {1, 2}),
                example("b", new int[] {3, 4, 5}, new int[] {3, 4, 5}))).sequences().getFirst();
        assertTrue(s.attends(1, 0));
        assertTrue(s.attends(4, 2));
        assertTrue(s.attends(3, 3));
        assertFalse(s.attends(2, 1), "b's first token must not see a");
        assertFalse(s.attends(0, 1), "no future keys");
    }

    @Test
    void longExamplesAreTruncatedAndCounted() {
        Example longOne = example("long", new int[] {1, 2, 3, 4, 5, 6, 7}, new int[] {1, 2, 3, 4, 5, 6, 7});
        Example exact = example("exact", new int[] {8, 9, 10, 11}, new int[] {I, I, 10, 11});
        Example longer = example("longer", new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, new int[] {I, 2, 3, 4, 5, 6, 7, 8, 9});
        SequencePacker.Packing p = new SequencePacker(4, PAD).pack(List.of(longOne, exact, longer));
        assertEquals(2, p.truncated());
        assertEquals(3 + 5, p.truncatedTokens());
        assertEquals(3, p.sequences().size());
        assertArrayEquals(new int[] {1, 2, 3, 4}, p.sequences().get(0).tokens());
        assertArrayEquals(new int[] {1, 2, 3, 4}, p.sequences().get(0).labels());
        assertArrayEquals(new int[] {I, I, 10, 11}, p.sequences().get(1).labels());
        assertEquals(0, p.paddingTokens());
    }

    @Test
    void textChunksInsteadOfTruncating() {
        Example text = example("t", new int[] {1, 2, 3, 4, 5, 6, 7}, new int[] {1, 2, 3, 4, 5, 6, 7});
        Dataset chunked = new Dataset(DatasetFormat.TEXT, List.of(text), java.util.Set.of(), List.of())
                .chunkedTexts(3);
        assertEquals(3, chunked.examples().size());
        assertArrayEquals(new int[] {4, 5, 6}, chunked.examples().get(1).inputIds());
        assertArrayEquals(new int[] {7}, chunked.examples().get(2).inputIds());
        assertEquals(0, new SequencePacker(3, PAD).pack(chunked.examples()).truncated());

        Dataset completion = new Dataset(DatasetFormat.COMPLETION, List.of(text), java.util.Set.of(), List.of());
        assertEquals(1, completion.chunkedTexts(3).examples().size(), "only text is chunked");
    }
}
