package dev.tailor.train.data;

import dev.tailor.model.CausalLmLoss;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Classifies by likelihood: for a prompt ({@code text + "\nLabel: "}), each known label is scored as a completion
 * (its tokens and EOS, as in training) and the most likely wins. Scores are summed log-probabilities, not
 * averaged per token: the EOS already makes every label a complete answer, and summing compares the
 * probabilities of the whole answers. Ties go to the label first in sorted order. The model is plugged in as a
 * {@link LogLikelihood}.
 */
public final class ClassificationScorer {

    /** The model's log-likelihood of a completion after a prompt: {@code Σ log p(completion[k] | prompt, …)}. */
    @FunctionalInterface
    public interface LogLikelihood {
        /** The summed log-probability of {@code completionIds} following {@code promptIds}. */
        double score(int[] promptIds, int[] completionIds);
    }

    /**
     * The outcome of scoring a set.
     *
     * @param correct examples whose predicted label is the true one
     * @param total   examples scored
     */
    public record Accuracy(int correct, int total) {
        /** {@code correct / total}, or 0 for an empty set. */
        public double fraction() {
            return total == 0 ? 0 : (double) correct / total;
        }
    }

    /**
     * The most labels {@link #checkLabelCount} lets through. Accuracy ranks every label for every example, so its
     * cost is examples × labels model passes: with 10,000 distinct labels in 10,000 lines that is 10⁸ passes (days
     * on a CPU), while 1,000 labels over a few hundred eval examples stay within minutes on a small model.
     */
    public static final int MAX_LABELS = 1_000;

    private final ExampleEncoder encoder;
    private final Map<String, int[]> labelIds = new LinkedHashMap<>();

    /**
     * A scorer over the training labels.
     *
     * @param encoder a {@link DatasetFormat#CLASSIFICATION} encoder of the model's tokenizer
     * @param labels  the labels seen in training ({@link Dataset#labels()})
     */
    public ClassificationScorer(ExampleEncoder encoder, Set<String> labels) {
        if (encoder.format() != DatasetFormat.CLASSIFICATION) {
            throw new IllegalArgumentException("a classification scorer needs a classification encoder, got "
                    + encoder.format().id());
        }
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("a classification scorer needs at least one label");
        }
        this.encoder = encoder;
        for (String label : new TreeSet<>(labels)) {
            labelIds.put(label, encoder.completionIds(label));
        }
    }

    /**
     * Refuses data of {@code file} with more than {@link #MAX_LABELS} distinct labels, before any scoring starts.
     *
     * @param instead what to do instead, for the message
     * @throws DataFormatException naming the file, the number of labels and the limit
     */
    public static void checkLabelCount(Path file, Set<String> labels, String instead) {
        if (labels.size() > MAX_LABELS) {
            throw new DataFormatException(String.format(Locale.ROOT, "%s: %,d distinct labels; accuracy ranks every "
                    + "label for every example, so at most %,d labels are scored; %s", file, labels.size(), MAX_LABELS,
                    instead));
        }
    }

    /** The labels, sorted. */
    public List<String> labels() {
        return List.copyOf(labelIds.keySet());
    }

    /** The most likely label for a text. */
    public String predict(String text, LogLikelihood model) {
        return predictIds(encoder.classificationPromptIds(text), model);
    }

    /** The most likely label after an encoded prompt. */
    public String predictIds(int[] promptIds, LogLikelihood model) {
        String best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, int[]> e : labelIds.entrySet()) {
            double score = model.score(promptIds, e.getValue());
            if (best == null || score > bestScore) {
                best = e.getKey();
                bestScore = score;
            }
        }
        return best;
    }

    /** The fraction of encoded classification examples whose label the model ranks first. */
    public Accuracy accuracy(List<Example> examples, LogLikelihood model) {
        int correct = 0;
        for (Example e : examples) {
            int split = promptLength(e);
            if (predictIds(Arrays.copyOf(e.inputIds(), split), model).equals(goldLabel(e, split))) {
                correct++;
            }
        }
        return new Accuracy(correct, examples.size());
    }

    /** Tokens before the first labelled one: the prompt. */
    private static int promptLength(Example e) {
        for (int t = 0; t < e.length(); t++) {
            if (e.labels()[t] != CausalLmLoss.IGNORE_INDEX) {
                return t;
            }
        }
        throw new IllegalArgumentException(e.source() + ": the example has no labelled tokens, so no label");
    }

    private String goldLabel(Example e, int split) {
        int[] answer = Arrays.copyOfRange(e.inputIds(), split, e.length());
        for (Map.Entry<String, int[]> entry : labelIds.entrySet()) {
            if (Arrays.equals(entry.getValue(), answer)) {
                return entry.getKey();
            }
        }
        throw new IllegalArgumentException(e.source() + ": the labelled tokens are none of the labels "
                + labelIds.keySet());
    }
}
