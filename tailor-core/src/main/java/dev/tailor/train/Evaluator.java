package dev.tailor.train;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.train.data.ClassificationScorer;
import dev.tailor.train.data.Dataset;
import dev.tailor.train.data.DatasetFormat;
import dev.tailor.train.data.DatasetLoader;
import dev.tailor.train.data.Example;
import dev.tailor.train.data.ExampleEncoder;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Causal-LM loss and perplexity of a model on a dataset in any training format: each line is one sequence
 * (encoded as for training, truncated to the context length); the loss is the mean negative log-likelihood over
 * every token that carries loss (every predicted token for {@code text}, the answers for the other formats; with
 * prompt tuning the first token too when it carries one, predicted by the last virtual token as in PEFT),
 * perplexity = exp(loss). Classification data also gets accuracy: the fraction of lines whose label the model
 * finds most likely among the labels of the file.
 */
public final class Evaluator {
    /** Rows of logits materialised at once, bounding memory to {@code CHUNK · vocab} floats. */
    private static final int CHUNK = 64;

    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;

    /** An evaluator of {@code model} with its tokenizer and chat template (null if it has none). */
    public Evaluator(LlamaModel model, Tokenizer tokenizer, ChatTemplate chatTemplate) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
    }

    /**
     * The result of an evaluation.
     *
     * @param format     the data format
     * @param loss       mean NLL per counted token
     * @param perplexity exp(loss)
     * @param tokens     counted tokens
     * @param sequences  lines evaluated
     * @param truncated  lines cut to the context length
     * @param skipped    bad lines skipped (with skipping on)
     * @param accuracy   classification accuracy, or NaN for other formats
     */
    public record Result(DatasetFormat format, double loss, double perplexity, long tokens, int sequences,
                         int truncated, int skipped, double accuracy) {
    }

    /**
     * Evaluates {@code file}.
     *
     * @param format       the format, or null to detect it
     * @param skipBadLines skip and count bad lines instead of failing
     */
    public Result evaluate(Path file, DatasetFormat format, boolean skipBadLines) {
        Dataset data = new DatasetLoader(tokenizer, chatTemplate, format, skipBadLines).load(file);
        ClassificationScorer.checkLabelCount(file, data.labels(), "evaluate data with fewer labels");
        int context = model.contextLength();
        CausalLmLoss.Total total = new CausalLmLoss.Total(0, 0);
        int truncated = 0;
        for (Example e : data.examples()) {
            int[] ids = e.inputIds();
            int[] labels = e.labels();
            if (ids.length > context) {
                ids = Arrays.copyOf(ids, context);
                labels = Arrays.copyOf(labels, context);
                truncated++;
            }
            total = total.plus(sequenceLoss(ids, labels));
        }
        double accuracy = Double.NaN;
        if (data.format() == DatasetFormat.CLASSIFICATION && !data.labels().isEmpty()) {
            ClassificationScorer scorer = new ClassificationScorer(
                    new ExampleEncoder(tokenizer, chatTemplate, DatasetFormat.CLASSIFICATION), data.labels());
            accuracy = scorer.accuracy(data.examples(), new LikelihoodScorer(model)).fraction();
        }
        double loss = total.mean();
        return new Result(data.format(), loss, Math.exp(loss), total.tokens(), data.examples().size(), truncated,
                data.skippedLines(), accuracy);
    }

    /**
     * Summed NLL of the tokens {@code ids[t]} whose {@code labels[t]} is not ignored, each predicted from its prefix
     * (t ≥ 1; also t = 0 when {@link LlamaModel#predictsFirstToken()}, from the last virtual token); only the rows
     * that predict such a token get logits.
     */
    public CausalLmLoss.Total sequenceLoss(int[] ids, int[] labels) {
        int firstTarget = model.predictsFirstToken() ? 0 : 1;
        int[] targets = new int[ids.length];
        int count = 0;
        for (int t = firstTarget; t < ids.length; t++) {
            if (labels[t] != CausalLmLoss.IGNORE_INDEX) {
                targets[count++] = t;
            }
        }
        if (count == 0) {
            return new CausalLmLoss.Total(0, 0);
        }
        int vocab = model.config().vocabSize();
        int d = model.config().hiddenSize();
        int last = targets[count - 1];
        int[] prefix = Arrays.copyOf(ids, last);
        float[] hidden = firstTarget == 0 ? model.forwardFromLastVirtual(model.newCache(last), prefix)
                : model.forward(model.newCache(last), prefix);
        double sum = 0;
        for (int from = 0; from < count; from += CHUNK) {
            int n = Math.min(CHUNK, count - from);
            float[] gathered = new float[n * d];
            for (int i = 0; i < n; i++) {
                System.arraycopy(hidden, (targets[from + i] - firstTarget) * d, gathered, i * d, d);
            }
            float[] logits = model.logits(gathered, 0, n);
            for (int i = 0; i < n; i++) {
                sum += CausalLmLoss.nll(logits, i * vocab, vocab, labels[targets[from + i]]);
            }
        }
        return new CausalLmLoss.Total(sum, count);
    }
}
