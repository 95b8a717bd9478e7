package dev.tailor.generate;

import dev.tailor.tensor.VectorMath;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Picks the next token from a vector of logits, as Hugging Face {@code generate} does: repetition penalty over
 * the ids seen so far, then (unless greedy) temperature, top-k, top-p and min-p, then a draw from a
 * {@code L64X128MixRandom} seeded with {@link SamplingParams#seed()}, so one seed always yields one sequence. The
 * OpenAI API's logit bias comes first, and its presence and frequency penalties right after the repetition penalty,
 * over the ids this sampler has returned so far (the generated tokens, as vLLM counts them).
 *
 * <p>Top-k is a partial selection (a k-element heap, O(V log k)), so a 150k vocabulary is never sorted for a
 * small k; only top-p sorts, and only the candidates left by top-k. Not thread-safe: one sampler per sequence.
 */
public final class Sampler {

    private final SamplingParams params;
    private final RandomGenerator random;
    private final BitSet penalized = new BitSet();
    /** How many times {@link #sample} has returned each id, for the presence and frequency penalties. */
    private final Map<Integer, Integer> returned = new HashMap<>();
    private int[] candidates = new int[0];
    private double[] weights = new double[0];
    private long[] sortKeys = new long[0];

    /** A sampler whose random generator is seeded from {@code params.seed()}. */
    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(params.seed());
    }

    /** The parameters this sampler follows. */
    public SamplingParams params() {
        return params;
    }

    /**
     * Chooses the next id.
     *
     * @param logits  the model's output for the last position, one per vocabulary id; the bias and the penalties
     *                are applied to it in place
     * @param seenIds the ids of the prompt and the tokens generated so far (duplicates allowed)
     * @throws IllegalArgumentException if a logit bias names an id outside the vocabulary
     */
    public int sample(float[] logits, int[] seenIds) {
        int id = choose(logits, seenIds);
        if (params.presencePenalty() != 0f || params.frequencyPenalty() != 0f) {
            returned.merge(id, 1, Integer::sum);
        }
        return id;
    }

    private int choose(float[] logits, int[] seenIds) {
        adjust(logits, seenIds);
        if (params.greedy()) {
            return argmax(logits);
        }
        int n = filter(logits);
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += weights[i];
        }
        double u = random.nextDouble() * total;
        double cumulative = 0;
        for (int i = 0; i < n; i++) {
            cumulative += weights[i];
            if (u < cumulative) {
                return candidates[i];
            }
        }
        return candidates[n - 1];
    }

    /**
     * The probabilities {@link #sample} draws from, over the whole vocabulary (0 for excluded ids; one-hot when
     * greedy). Applies the bias and the penalties to {@code logits} in place and consumes no randomness.
     */
    public double[] distribution(float[] logits, int[] seenIds) {
        adjust(logits, seenIds);
        double[] probabilities = new double[logits.length];
        if (params.greedy()) {
            probabilities[argmax(logits)] = 1;
            return probabilities;
        }
        int n = filter(logits);
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += weights[i];
        }
        for (int i = 0; i < n; i++) {
            probabilities[candidates[i]] = weights[i] / total;
        }
        return probabilities;
    }

    /** The logit bias, the repetition penalty, then the presence and frequency penalties, in place. */
    private void adjust(float[] logits, int[] seenIds) {
        params.logitBias().forEach((id, bias) -> {
            if (id >= logits.length) {
                throw new IllegalArgumentException("logit bias for token id " + id + ", outside the vocabulary [0, "
                        + logits.length + ")");
            }
            logits[id] += bias;
        });
        applyRepetitionPenalty(logits, seenIds, params.repetitionPenalty(), penalized);
        returned.forEach((id, count) -> logits[id] -= count * params.frequencyPenalty() + params.presencePenalty());
    }

    /**
     * Hugging Face's {@code RepetitionPenaltyLogitsProcessor}: for each distinct seen id, a logit {@code > 0} is
     * divided by {@code penalty}, any other is multiplied by it. An id seen twice is penalised once.
     */
    public static void applyRepetitionPenalty(float[] logits, int[] seenIds, float penalty) {
        applyRepetitionPenalty(logits, seenIds, penalty, new BitSet());
    }

    private static void applyRepetitionPenalty(float[] logits, int[] seenIds, float penalty, BitSet done) {
        if (penalty == 1f) {
            return;
        }
        done.clear();
        for (int id : seenIds) {
            if (id < 0 || id >= logits.length) {
                throw new IllegalArgumentException("seen id " + id + " is outside the vocabulary [0, "
                        + logits.length + ")");
            }
            if (!done.get(id)) {
                done.set(id);
                float logit = logits[id];
                logits[id] = logit > 0 ? logit / penalty : logit * penalty;
            }
        }
    }

    /** The index of the largest logit, the lowest index among equals. */
    public static int argmax(float[] logits) {
        int best = VectorMath.argmax(logits, 0, logits.length);
        if (best < 0) {
            throw new IllegalArgumentException("no finite logit to choose from (all NaN or empty)");
        }
        return best;
    }

    /**
     * Applies temperature, top-k, top-p and min-p: fills {@code candidates[0..n)} with the surviving ids and
     * {@code weights[0..n)} with their unnormalised probabilities {@code exp((logit - max) / T)}; returns n.
     */
    private int filter(float[] logits) {
        ensureCapacity(logits.length);
        int k = params.topK();
        float threshold = k > 0 && k < logits.length ? kthLargest(logits, k) : Float.NEGATIVE_INFINITY;
        int n = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int id = 0; id < logits.length; id++) {
            float logit = logits[id];
            if (logit >= threshold && logit > Float.NEGATIVE_INFINITY) {
                candidates[n++] = id;
                max = Math.max(max, logit);
            }
        }
        if (n == 0) {
            throw new IllegalArgumentException("every logit is -infinity or NaN; nothing to sample");
        }
        double inverseTemperature = 1.0 / params.temperature();
        for (int i = 0; i < n; i++) {
            weights[i] = Math.exp((logits[candidates[i]] - (double) max) * inverseTemperature);
        }
        if (params.topP() < 1f) {
            n = topP(logits, n);
        }
        if (params.minP() > 0f) {
            n = minP(n);
        }
        return n;
    }

    /** Sorts the candidates by probability and keeps the smallest prefix whose mass reaches top-p (at least 1). */
    private int topP(float[] logits, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            int id = candidates[i];
            sortKeys[i] = ((long) ~sortable(logits[id]) << 32) | id; // logit descending, then id ascending
            total += weights[i];
        }
        Arrays.sort(sortKeys, 0, n);
        double cumulative = 0;
        int kept = 0;
        double inverseTemperature = 1.0 / params.temperature();
        float max = logits[(int) sortKeys[0]];
        while (kept < n) {
            int id = (int) sortKeys[kept];
            candidates[kept] = id;
            weights[kept] = Math.exp((logits[id] - (double) max) * inverseTemperature);
            cumulative += weights[kept];
            kept++;
            if (cumulative / total >= params.topP()) {
                break;
            }
        }
        return kept;
    }

    /** Drops candidates whose probability is below min-p times the largest (whose weight is exactly 1). */
    private int minP(int n) {
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (weights[i] >= params.minP()) {
                candidates[kept] = candidates[i];
                weights[kept] = weights[i];
                kept++;
            }
        }
        return kept;
    }

    /** The k-th largest logit (counting equal values separately), by a k-element min-heap. */
    static float kthLargest(float[] logits, int k) {
        float[] heap = new float[k];
        int size = 0;
        for (float logit : logits) {
            if (size < k) {
                heap[size] = logit;
                siftUp(heap, size++);
            } else if (logit > heap[0]) {
                heap[0] = logit;
                siftDown(heap, k);
            }
        }
        return heap[0];
    }

    private static void siftUp(float[] heap, int i) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= heap[i]) {
                return;
            }
            float t = heap[parent];
            heap[parent] = heap[i];
            heap[i] = t;
            i = parent;
        }
    }

    private static void siftDown(float[] heap, int size) {
        int i = 0;
        while (true) {
            int smallest = i;
            int left = 2 * i + 1;
            int right = left + 1;
            if (left < size && heap[left] < heap[smallest]) {
                smallest = left;
            }
            if (right < size && heap[right] < heap[smallest]) {
                smallest = right;
            }
            if (smallest == i) {
                return;
            }
            float t = heap[smallest];
            heap[smallest] = heap[i];
            heap[i] = t;
            i = smallest;
        }
    }

    /** Float bits as an int whose signed order is the floats' order. */
    private static int sortable(float f) {
        int bits = Float.floatToRawIntBits(f);
        return bits >= 0 ? bits : bits ^ 0x7fffffff;
    }

    private void ensureCapacity(int vocab) {
        if (candidates.length < vocab) {
            candidates = new int[vocab];
            weights = new double[vocab];
            sortKeys = new long[vocab];
        }
    }
}
