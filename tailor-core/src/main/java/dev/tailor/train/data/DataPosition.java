package dev.tailor.train.data;

/**
 * Where a run is in its data: the next batch to train on is batch {@code batch} of epoch {@code epoch}. Saved in
 * checkpoints; a run restored to it ({@link EpochBatches#seek}) continues with exactly the batches it would have
 * seen.
 *
 * @param epoch 0-based epoch
 * @param batch 0-based index of the next batch within the epoch
 */
public record DataPosition(int epoch, int batch) {

    /** The start of training. */
    public static final DataPosition START = new DataPosition(0, 0);

    /** Checks both are non-negative. */
    public DataPosition {
        if (epoch < 0 || batch < 0) {
            throw new IllegalArgumentException("data position must be non-negative, got epoch " + epoch + ", batch "
                    + batch);
        }
    }
}
