package dev.tailor.train.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Training and evaluation examples: either a seeded random fraction of one dataset held out for evaluation, or
 * a separate evaluation file.
 *
 * @param train examples to train on
 * @param eval  examples to evaluate on (may be empty)
 */
public record DatasetSplit(List<Example> train, List<Example> eval) {

    /** Copies the lists. */
    public DatasetSplit {
        train = List.copyOf(train);
        eval = List.copyOf(eval);
    }

    /**
     * Holds out {@code round(evalFraction · n)} examples chosen by a seeded shuffle (at least one when the
     * fraction is positive and there are two or more examples, and never all). Both parts keep file order; the
     * same seed always holds out the same examples.
     *
     * @param evalFraction in [0, 1)
     */
    public static DatasetSplit byFraction(List<Example> examples, double evalFraction, long seed) {
        if (!(evalFraction >= 0 && evalFraction < 1)) {
            throw new IllegalArgumentException("eval fraction must be in [0, 1), got " + evalFraction);
        }
        int n = examples.size();
        int atLeast = evalFraction > 0 && n >= 2 ? 1 : 0;
        int held = Math.clamp(Math.round(evalFraction * n), atLeast, Math.max(0, n - 1));
        int[] order = shuffled(n, new SplittableRandom(seed));
        boolean[] isEval = new boolean[n];
        for (int i = 0; i < held; i++) {
            isEval[order[i]] = true;
        }
        List<Example> train = new ArrayList<>(n - held);
        List<Example> eval = new ArrayList<>(held);
        for (int i = 0; i < n; i++) {
            (isEval[i] ? eval : train).add(examples.get(i));
        }
        return new DatasetSplit(train, eval);
    }

    /** A permutation of {@code 0..n-1} (Fisher–Yates). */
    static int[] shuffled(int n, SplittableRandom random) {
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
