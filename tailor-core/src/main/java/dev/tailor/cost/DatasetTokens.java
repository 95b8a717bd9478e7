package dev.tailor.cost;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.Tokenizers;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.data.TrainingData;

import java.nio.file.Path;

/** The training tokens of a dataset, counted as {@code tailor train} would feed them. */
public final class DatasetTokens {
    private DatasetTokens() {
    }

    /**
     * The tokens {@code epochs} passes over the training split of {@code data} feed the model: the data read,
     * encoded with the tokenizer and chat template of {@code modelDir}, split and packed as {@code tailor train}
     * does, the packed sequences' tokens summed (padding included, as the trainer counts them) and multiplied by
     * {@code epochs}.
     *
     * @throws IllegalArgumentException naming the file or option that cannot be used
     */
    public static long count(DataConfig data, Path modelDir, double epochs) {
        if (!(epochs > 0 && epochs < Double.POSITIVE_INFINITY)) {
            throw new InvalidOptionException("epochs", "epochs must be > 0, got " + epochs);
        }
        ChatTemplate template;
        try {
            template = ChatTemplate.load(modelDir);
        } catch (ChatTemplateException e) {
            template = null;
        }
        TrainingData loaded = TrainingData.load(data, Tokenizers.load(modelDir), template);
        long perEpoch = loaded.train().packing().sequences().stream().mapToLong(PackedSequence::length).sum();
        return Math.round(perEpoch * epochs);
    }
}
