package dev.tailor.cost;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.Tokenizers;
import dev.tailor.train.data.DataConfig;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.data.TrainingData;

import java.nio.file.Path;

/** The training tokens of a dataset, counted as {@code tailor train} would feed them, and the share that carry a loss. */
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
        return counted(data, modelDir, epochs).tokens();
    }

    /**
     * The training tokens of a dataset and the share of them that carry a loss.
     *
     * @param tokens    as {@link #count} counts them
     * @param lossShare the share of the packed tokens whose next label counts in the loss (1 for text; the answers'
     *                  for prompt-completion, chat and classification data)
     */
    public record Counted(long tokens, double lossShare) {
    }

    /**
     * {@link #count}, with the share of the tokens that carry a loss.
     *
     * @throws IllegalArgumentException naming the file or option that cannot be used
     */
    public static Counted counted(DataConfig data, Path modelDir, double epochs) {
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
        long perEpoch = 0;
        long counted = 0;
        for (PackedSequence s : loaded.train().packing().sequences()) {
            perEpoch += s.length();
            counted += lossRows(s);
        }
        return new Counted(Math.round(perEpoch * epochs), perEpoch == 0 ? 1 : Math.max(1e-9,
                (double) counted / perEpoch));
    }

    /** The rows of {@code s} whose next label counts in the loss: not ignored and in the same segment. */
    public static long lossRows(PackedSequence s) {
        int[] labels = s.labels();
        int[] starts = s.segmentStarts();
        long count = 0;
        for (int t = 0; t + 1 < labels.length; t++) {
            if (labels[t + 1] != CausalLmLoss.IGNORE_INDEX && starts[t + 1] != t + 1) {
                count++;
            }
        }
        return count;
    }
}
