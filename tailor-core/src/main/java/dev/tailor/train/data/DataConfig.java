package dev.tailor.train.data;

import dev.tailor.adapt.InvalidOptionException;

import java.nio.file.Path;

/**
 * The data settings of a training run.
 *
 * @param trainFile      the training data ({@code .jsonl}, or {@code .txt} read as one text)
 * @param evalFile       a separate evaluation file in the same format, or null to hold out {@code evalFraction}
 * @param format         the format, or null to detect it from the first line
 * @param evalFraction   the share of the training file held out for evaluation when there is no eval file
 * @param seqLen         tokens per packed sequence
 * @param batchSize      sequences per batch
 * @param seed           seeds the held-out choice, the packing order and every epoch's order
 * @param chunkLongTexts cut long {@code text} examples into {@code seqLen} pieces instead of truncating them
 * @param skipBadLines   skip and count bad lines instead of failing on the first
 */
public record DataConfig(Path trainFile, Path evalFile, DatasetFormat format, double evalFraction, int seqLen,
                         int batchSize, long seed, boolean chunkLongTexts, boolean skipBadLines) {

    /**
     * Checks the held-out share.
     *
     * @throws InvalidOptionException naming {@code eval_split} when {@code evalFraction} is not in [0, 1)
     */
    public DataConfig {
        if (!(evalFraction >= 0 && evalFraction < 1)) {
            throw new InvalidOptionException("eval_split", "eval_split must be a number in [0, 1), got "
                    + evalFraction);
        }
    }

    /** Defaults: detected format, 10% held out, seed 42, long texts chunked, bad lines fail. */
    public static DataConfig of(Path trainFile, int seqLen, int batchSize) {
        return new DataConfig(trainFile, null, null, 0.1, seqLen, batchSize, 42, true, false);
    }
}
