package dev.tailor.train.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Train/eval split sizes and determinism; seeded epochs; resuming from a saved position. */
class EpochBatchesTest {

    /** {@code n} examples; example i has tokens {i, i} so it is recognisable after packing. */
    private static List<Example> examples(int n) {
        List<Example> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new Example(new int[] {i + 1, i + 1}, new int[] {i + 1, i + 1}, "f:" + (i + 1)));
        }
        return list;
    }

    @Test
    void splitHoldsOutTheFractionDeterministically() {
        List<Example> all = examples(50);
        DatasetSplit a = DatasetSplit.byFraction(all, 0.1, 7);
        assertEquals(45, a.train().size());
        assertEquals(5, a.eval().size());
        assertEquals(a, DatasetSplit.byFraction(all, 0.1, 7));
        assertNotEquals(a.eval(), DatasetSplit.byFraction(all, 0.1, 8).eval());
        Set<Example> union = new HashSet<>(a.train());
        union.addAll(a.eval());
        assertEquals(50, union.size(), "a partition");
        assertTrue(isFileOrder(a.eval()) && isFileOrder(a.train()));

        assertEquals(1, DatasetSplit.byFraction(examples(3), 0.1, 1).eval().size(), "at least one held out");
        assertEquals(0, DatasetSplit.byFraction(examples(3), 0, 1).eval().size());
        assertEquals(0, DatasetSplit.byFraction(examples(1), 0.5, 1).eval().size(), "never everything");
        assertThrows(IllegalArgumentException.class, () -> DatasetSplit.byFraction(all, 1.0, 1));
    }

    private static boolean isFileOrder(List<Example> list) {
        for (int i = 1; i < list.size(); i++) {
            if (list.get(i).inputIds()[0] <= list.get(i - 1).inputIds()[0]) {
                return false;
            }
        }
        return true;
    }

    @Test
    void epochsVisitEverySequenceOnceInASeededOrder() {
        // 20 examples of 2 tokens, 4 per sequence of 8: 5 sequences, batches of 2 → 3 batches (2, 2, 1)
        EpochBatches batches = new EpochBatches(examples(20), new SequencePacker(8, 0), 2, 42);
        assertEquals(5, batches.packing().sequences().size());
        assertEquals(3, batches.batchesPerEpoch());
        List<List<PackedSequence>> epoch0 = epoch(batches);
        assertEquals(List.of(2, 2, 1), epoch0.stream().map(List::size).toList());
        assertEquals(new DataPosition(1, 0), batches.position());
        List<List<PackedSequence>> epoch1 = epoch(batches);
        assertEquals(new HashSet<>(flat(epoch0)), new HashSet<>(flat(epoch1)), "same sequences");
        assertEquals(5, new HashSet<>(flat(epoch0)).size(), "each once");

        EpochBatches again = new EpochBatches(examples(20), new SequencePacker(8, 0), 2, 42);
        assertEquals(epoch0, epoch(again), "same seed, same order");
        EpochBatches other = new EpochBatches(examples(20), new SequencePacker(8, 0), 2, 43);
        assertNotEquals(epoch0, epoch(other), "another seed, another order");
    }

    @Test
    void epochsAreReshuffled() {
        EpochBatches batches = new EpochBatches(examples(40), new SequencePacker(4, 0), 1, 5);
        assertEquals(20, batches.batchesPerEpoch());
        assertNotEquals(epoch(batches), epoch(batches));
    }

    @Test
    void aResumedRunSeesExactlyTheSameBatches() throws Exception {
        EpochBatches original = new EpochBatches(examples(30), new SequencePacker(6, 0), 2, 11);
        for (int i = 0; i < 7; i++) {
            original.next();
        }
        DataPosition saved = original.position();
        assertEquals(new DataPosition(1, 2), saved, "5 batches per epoch: 7 = one epoch and 2");
        ObjectMapper json = new ObjectMapper();
        DataPosition restored = json.readValue(json.writeValueAsString(saved), DataPosition.class);
        assertEquals(saved, restored);

        EpochBatches resumed = new EpochBatches(examples(30), new SequencePacker(6, 0), 2, 11);
        resumed.seek(restored);
        for (int i = 0; i < 12; i++) {
            assertEquals(original.next(), resumed.next(), "batch " + i + " after resuming");
        }
        assertThrows(IllegalArgumentException.class, () -> resumed.seek(new DataPosition(0, 5)));
    }

    private static List<List<PackedSequence>> epoch(EpochBatches batches) {
        List<List<PackedSequence>> out = new ArrayList<>();
        int epoch = batches.position().epoch();
        while (batches.position().epoch() == epoch) {
            out.add(batches.next().sequences());
        }
        return out;
    }

    private static List<PackedSequence> flat(List<List<PackedSequence>> batches) {
        return batches.stream().flatMap(List::stream).toList();
    }
}
