package dev.tailor.train.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The training batches, epoch after epoch, in a seeded order that a resumed run reproduces exactly.
 *
 * <p>The examples are shuffled once (seeded by {@code seed}) and packed once, so every epoch has the same number
 * of batches (which the learning-rate schedule needs); each epoch then visits the packed sequences in its own
 * order, a shuffle seeded by {@code seed + epoch}, grouped {@code batchSize} at a time (the last batch of an epoch
 * may be smaller: no data is dropped). The position ({@link #position}) is the next batch; {@link #seek} goes
 * back to a saved one.
 */
public final class EpochBatches {
    private final List<PackedSequence> sequences;
    private final SequencePacker.Packing packing;
    private final int batchSize;
    private final long seed;
    private int epoch;
    private int batch;
    private int[] order;

    /**
     * Packs the training examples.
     *
     * @param batchSize sequences per batch
     * @param seed      the run's data seed
     */
    public EpochBatches(List<Example> train, SequencePacker packer, int batchSize, long seed) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training examples");
        }
        int[] exampleOrder = DatasetSplit.shuffled(train.size(), new SplittableRandom(seed));
        List<Example> shuffled = new ArrayList<>(train.size());
        for (int i : exampleOrder) {
            shuffled.add(train.get(i));
        }
        this.packing = packer.pack(shuffled);
        this.sequences = packing.sequences();
        this.batchSize = batchSize;
        this.seed = seed;
        seek(DataPosition.START);
    }

    /** How the training examples were packed (sequences, truncations, padding). */
    public SequencePacker.Packing packing() {
        return packing;
    }

    /** Batches in every epoch. */
    public int batchesPerEpoch() {
        return (sequences.size() + batchSize - 1) / batchSize;
    }

    /** The next batch to be returned by {@link #next}. */
    public DataPosition position() {
        return new DataPosition(epoch, batch);
    }

    /**
     * Moves to a saved position.
     *
     * @throws IllegalArgumentException if the batch index is beyond the epoch
     */
    public void seek(DataPosition position) {
        if (position.batch() >= batchesPerEpoch()) {
            throw new IllegalArgumentException("batch " + position.batch() + " is beyond the " + batchesPerEpoch()
                    + " batches of an epoch");
        }
        epoch = position.epoch();
        batch = position.batch();
        order = DatasetSplit.shuffled(sequences.size(), new SplittableRandom(seed + epoch));
    }

    /** The batch at the current position; the position then moves on (into the next epoch after the last). */
    public Batch next() {
        int from = batch * batchSize;
        int to = Math.min(sequences.size(), from + batchSize);
        List<PackedSequence> rows = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            rows.add(sequences.get(order[i]));
        }
        if (batch + 1 < batchesPerEpoch()) {
            batch++;
        } else {
            seek(new DataPosition(epoch + 1, 0));
        }
        return new Batch(rows);
    }

    /** Groups sequences in order into batches of {@code batchSize} (the last may be smaller): for evaluation. */
    public static List<Batch> inOrder(List<PackedSequence> sequences, int batchSize) {
        List<Batch> batches = new ArrayList<>();
        for (int from = 0; from < sequences.size(); from += batchSize) {
            batches.add(new Batch(sequences.subList(from, Math.min(sequences.size(), from + batchSize))));
        }
        return batches;
    }
}
