package dev.tailor.train.data;

import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A run's data, ready to train on: the files read and encoded, long texts chunked, train and eval split, the
 * training set packed into seeded epochs and the eval set packed in order.
 *
 * @param format      the dataset format
 * @param labels      the classification labels of the training data (empty for other formats)
 * @param split       the encoded train and eval examples (eval examples also feed classification accuracy)
 * @param train       the training batches
 * @param evalPacking the eval examples packed (in order)
 * @param eval        the eval batches
 * @param skipped     messages of the lines skipped as bad, train file first
 */
public record TrainingData(DatasetFormat format, Set<String> labels, DatasetSplit split, EpochBatches train,
                           SequencePacker.Packing evalPacking, List<Batch> eval, List<String> skipped) {

    /** Loads the files of {@code config} with the model's tokenizer and chat template (null if it has none). */
    public static TrainingData load(DataConfig config, Tokenizer tokenizer, ChatTemplate chatTemplate) {
        Dataset trainSet = new DatasetLoader(tokenizer, chatTemplate, config.format(), config.skipBadLines())
                .load(config.trainFile());
        List<String> skipped = new ArrayList<>(trainSet.skipped());
        DatasetSplit split;
        if (config.evalFile() != null) {
            Dataset evalSet = new DatasetLoader(tokenizer, chatTemplate, trainSet.format(), config.skipBadLines())
                    .load(config.evalFile(), trainSet.format() == DatasetFormat.CLASSIFICATION ? trainSet.labels() : null);
            skipped.addAll(evalSet.skipped());
            split = new DatasetSplit(chunked(trainSet, config).examples(), chunked(evalSet, config).examples());
        } else {
            split = DatasetSplit.byFraction(chunked(trainSet, config).examples(), config.evalFraction(), config.seed());
        }
        SequencePacker packer = new SequencePacker(config.seqLen(), SequencePacker.padIdOf(tokenizer));
        EpochBatches train = new EpochBatches(split.train(), packer, config.batchSize(), config.seed());
        SequencePacker.Packing evalPacking = packer.pack(split.eval());
        return new TrainingData(trainSet.format(), trainSet.labels(), split, train, evalPacking,
                EpochBatches.inOrder(evalPacking.sequences(), config.batchSize()), skipped);
    }

    private static Dataset chunked(Dataset d, DataConfig config) {
        return config.chunkLongTexts() ? d.chunkedTexts(config.seqLen()) : d;
    }

    /** One line for the log: examples, sequences, truncations and skipped lines. */
    public String summary() {
        SequencePacker.Packing p = train.packing();
        return format.id() + " data: " + split.train().size() + " train examples in " + p.sequences().size()
                + " sequences (" + train.batchesPerEpoch() + " batches/epoch, " + p.truncated() + " truncated), "
                + split.eval().size() + " eval examples in " + evalPacking.sequences().size() + " sequences ("
                + evalPacking.truncated() + " truncated), " + skipped.size() + " bad lines skipped";
    }
}
