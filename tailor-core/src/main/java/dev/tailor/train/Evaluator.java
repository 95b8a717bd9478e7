package dev.tailor.train;

import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.tokenizer.Tokenizer;

import java.nio.file.Path;

/**
 * Causal-LM loss and perplexity of a model on a {@code text} JSON Lines dataset: each line is one sequence
 * (special tokens added as the tokenizer config says, truncated to the context length); the loss is the mean
 * negative log-likelihood over every predicted token of all lines, perplexity = exp(loss).
 */
public final class Evaluator {
    /** Rows of logits materialised at once, bounding memory to {@code CHUNK · vocab} floats. */
    private static final int CHUNK = 64;

    private final LlamaModel model;
    private final Tokenizer tokenizer;

    /** An evaluator of {@code model} with its tokenizer. */
    public Evaluator(LlamaModel model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * The result of an evaluation.
     *
     * @param loss       mean NLL per predicted token
     * @param perplexity exp(loss)
     * @param tokens     predicted tokens counted
     * @param sequences  lines evaluated
     * @param truncated  lines cut to the context length
     */
    public record Result(double loss, double perplexity, long tokens, int sequences, int truncated) {
    }

    /** Evaluates every line's {@code text} field of {@code file}. */
    public Result evaluate(Path file) {
        int context = model.config().maxPositions();
        CausalLmLoss.Total[] total = {new CausalLmLoss.Total(0, 0)};
        int[] counts = new int[2];
        JsonLines.forEach(file, line -> {
            int[] ids = tokenizer.encode(line.requireText("text"), true);
            if (ids.length > context) {
                ids = java.util.Arrays.copyOf(ids, context);
                counts[1]++;
            }
            total[0] = total[0].plus(sequenceLoss(ids));
            counts[0]++;
        });
        double loss = total[0].mean();
        return new Result(loss, Math.exp(loss), total[0].tokens(), counts[0], counts[1]);
    }

    /** Summed NLL of predicting {@code ids[1..]} from their prefixes. */
    public CausalLmLoss.Total sequenceLoss(int[] ids) {
        if (ids.length < 2) {
            return new CausalLmLoss.Total(0, 0);
        }
        int vocab = model.config().vocabSize();
        float[] hidden = model.forward(model.newCache(ids.length), ids);
        double sum = 0;
        int rows = ids.length - 1;
        for (int from = 0; from < rows; from += CHUNK) {
            int to = Math.min(rows, from + CHUNK);
            float[] logits = model.logits(hidden, from, to);
            for (int t = from; t < to; t++) {
                sum += CausalLmLoss.nll(logits, (t - from) * vocab, vocab, ids[t + 1]);
            }
        }
        return new CausalLmLoss.Total(sum, rows);
    }
}
