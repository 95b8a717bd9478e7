package dev.tailor.generate;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SamplerTest {

    private static final int[] NONE = {};
    /** Logits whose softmax is exactly (up to float rounding) 0.5, 0.2, 0.15, 0.1, 0.05. */
    private static final float[] FIVE = logitsOf(0.5, 0.2, 0.15, 0.1, 0.05);

    private static float[] logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.log(probabilities[i]);
        }
        return logits;
    }

    private static double[] softmax(float[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    private static double[] distribution(SamplingParams params, float[] logits) {
        return new Sampler(params).distribution(logits.clone(), NONE);
    }

    @Test
    void drawsFollowTheSoftmaxAtTemperature() {
        float[] logits = {2.0f, 1.0f, 0.5f, -1.0f, 0.0f, -3.0f};
        for (float temperature : new float[] {1.0f, 0.5f, 2.0f}) {
            Sampler sampler = new Sampler(SamplingParams.DEFAULT.withTemperature(temperature).withSeed(42));
            int draws = 10_000;
            int[] counts = new int[logits.length];
            for (int i = 0; i < draws; i++) {
                counts[sampler.sample(logits.clone(), NONE)]++;
            }
            double[] expected = softmax(logits, temperature);
            for (int id = 0; id < logits.length; id++) {
                // 4 standard deviations of a binomial proportion at n = 10k is at most 0.02
                double sigma = Math.sqrt(expected[id] * (1 - expected[id]) / draws);
                assertEquals(expected[id], counts[id] / (double) draws, Math.max(4 * sigma, 1e-3),
                        "frequency of id " + id + " at T=" + temperature);
            }
        }
    }

    @Test
    void unfilteredDistributionIsTheSoftmax() {
        float[] logits = {3.5f, -1.25f, 0f, 2f};
        assertArrayEquals(softmax(logits, 0.7f), distribution(SamplingParams.DEFAULT.withTemperature(0.7f), logits),
                1e-12);
    }

    @Test
    void topKKeepsTheKLargestRenormalised() {
        double[] p = distribution(SamplingParams.DEFAULT.withTopK(3), new float[] {1f, 4f, 2f, 3f, 0f});
        double[] full = softmax(new float[] {4f, 2f, 3f}, 1);
        assertArrayEquals(new double[] {0, full[0], full[1], full[2], 0}, p, 1e-12);
    }

    @Test
    void topKKeepsTiesWithTheKthAsHuggingFaceDoes() {
        double[] p = distribution(SamplingParams.DEFAULT.withTopK(2), new float[] {5f, 4f, 1f, 4f});
        double[] kept = softmax(new float[] {5f, 4f, 4f}, 1);
        assertArrayEquals(new double[] {kept[0], kept[1], 0, kept[2]}, p, 1e-12);
    }

    @Test
    void topKOnALargeVocabularyMatchesAFullSort() {
        SplittableRandom random = new SplittableRandom(7);
        float[] logits = new float[151_936];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        int k = 40;
        int[] expected = IntStream.range(0, logits.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -logits[i])).limit(k)
                .mapToInt(Integer::intValue).sorted().toArray();
        double[] p = distribution(SamplingParams.DEFAULT.withTopK(k), logits);
        int[] kept = IntStream.range(0, p.length).filter(i -> p[i] > 0).toArray();
        assertArrayEquals(expected, kept);
        assertEquals(1.0, Arrays.stream(p).sum(), 1e-9);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        assertArrayEquals(new int[] {0}, kept(SamplingParams.DEFAULT.withTopP(0.45f)));
        assertArrayEquals(new int[] {0, 1}, kept(SamplingParams.DEFAULT.withTopP(0.6f)));
        assertArrayEquals(new int[] {0, 1, 2}, kept(SamplingParams.DEFAULT.withTopP(0.75f)));
        assertArrayEquals(new int[] {0, 1, 2, 3}, kept(SamplingParams.DEFAULT.withTopP(0.9f)));
        double[] p = distribution(SamplingParams.DEFAULT.withTopP(0.75f), FIVE);
        assertArrayEquals(new double[] {0.5 / 0.85, 0.2 / 0.85, 0.15 / 0.85, 0, 0}, p, 1e-6);
    }

    @Test
    void topPOrdersByProbabilityNotById() {
        float[] shuffled = logitsOf(0.1, 0.5, 0.05, 0.2, 0.15);
        double[] p = distribution(SamplingParams.DEFAULT.withTopP(0.6f), shuffled);
        assertArrayEquals(new double[] {0, 0.5 / 0.7, 0, 0.2 / 0.7, 0}, p, 1e-6);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheLargest() {
        assertArrayEquals(new int[] {0, 1, 2}, kept(SamplingParams.DEFAULT.withMinP(0.25f)));  // p >= 0.125
        assertArrayEquals(new int[] {0, 1}, kept(SamplingParams.DEFAULT.withMinP(0.35f)));     // p >= 0.175
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, kept(SamplingParams.DEFAULT.withMinP(0.05f)));
        // min-p sees the tempered distribution: at T = 2, p_i / p_max = sqrt(q_i / q_max) = 0.632, 0.548, 0.447, 0.316
        assertArrayEquals(new int[] {0}, kept(SamplingParams.DEFAULT.withMinP(0.5f)));
        assertArrayEquals(new int[] {0, 1, 2}, kept(SamplingParams.DEFAULT.withTemperature(2f).withMinP(0.5f)));
    }

    @Test
    void filtersCompose() {
        // top-k 4 drops id 4; top-p 0.8 over (0.5, 0.2, 0.15, 0.1)/0.95 keeps 0..2; min-p 0.35 then drops id 2
        SamplingParams params = SamplingParams.DEFAULT.withTopK(4).withTopP(0.8f).withMinP(0.35f);
        assertArrayEquals(new double[] {0.5 / 0.7, 0.2 / 0.7, 0, 0, 0}, distribution(params, FIVE), 1e-6);
    }

    private static int[] kept(SamplingParams params) {
        double[] p = distribution(params, FIVE);
        return IntStream.range(0, p.length).filter(i -> p[i] > 0).toArray();
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeOnce() {
        float[] logits = {2f, -2f, 0.5f, 3f, 0f};
        Sampler.applyRepetitionPenalty(logits, new int[] {0, 1, 1, 4, 0}, 2f);
        assertArrayEquals(new float[] {1f, -4f, 0.5f, 3f, 0f}, logits);
    }

    @Test
    void repetitionPenaltyCanChangeTheGreedyChoice() {
        float[] logits = {1f, 3f, 2f};
        assertEquals(1, new Sampler(SamplingParams.GREEDY).sample(logits.clone(), new int[] {0}));
        assertEquals(2, new Sampler(SamplingParams.GREEDY.withRepetitionPenalty(1.6f)).sample(logits.clone(),
                new int[] {1}));
    }

    @Test
    void theLogitBiasIsAddedBeforeTheChoice() {
        SamplingParams biased = SamplingParams.GREEDY.withLogitBias(Map.of(3, 0.5f, 0, -1f));
        float[] logits = {2f, 1f, 0f, 1.8f};
        assertEquals(3, new Sampler(biased).sample(logits, NONE));
        assertArrayEquals(new float[] {1f, 1f, 0f, 2.3f}, logits, "applied in place: 2 - 1 and 1.8 + 0.5");
        double[] p = distribution(SamplingParams.DEFAULT.withLogitBias(Map.of(1, -100f)), logitsOf(0.5, 0.5));
        assertEquals(1.0, p[0], 1e-12, "a bias of -100 all but bans a token");
        assertThrows(IllegalArgumentException.class, () -> new Sampler(biased).sample(new float[3], NONE),
                "a bias for id 3 over a vocabulary of 3");
    }

    @Test
    void presenceAndFrequencyPenaltiesCountTheTokensGeneratedSoFar() {
        Sampler s = new Sampler(SamplingParams.GREEDY.withPenalties(0.5f, 0.25f));
        int[] prompt = {0, 0, 0};
        assertEquals(0, s.sample(new float[] {1f, 0.9f, 0.1f}, prompt), "the prompt's tokens are not counted");
        float[] second = {1f, 0.9f, 0.1f};
        assertEquals(1, s.sample(second, prompt));
        assertArrayEquals(new float[] {0.25f, 0.9f, 0.1f}, second, "once generated: 1 - 0.5 - 0.25");
        float[] third = {1.5f, 0.9f, 0.1f};
        assertEquals(0, s.sample(third, prompt));
        assertArrayEquals(new float[] {0.75f, 0.15f, 0.1f}, third, 1e-6f);
        float[] fourth = {2f, 0.9f, 0.1f};
        assertEquals(0, s.sample(fourth, prompt));
        assertArrayEquals(new float[] {1f, 0.15f, 0.1f}, fourth, 1e-6f, "id 0 twice: 2 - 0.5 - 2 · 0.25");
        float[] negative = {1f, 0.9f};
        Sampler encouraging = new Sampler(SamplingParams.GREEDY.withPenalties(-1f, 0f));
        assertEquals(0, encouraging.sample(negative, NONE));
        assertEquals(0, encouraging.sample(new float[] {1f, 1.5f}, NONE), "a negative penalty favours repeats");
    }

    @Test
    void penaltiesAndBiasesOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.DEFAULT.withPenalties(2.5f, 0f));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.DEFAULT.withPenalties(0f, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.DEFAULT.withLogitBias(Map.of(1, 101f)));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.DEFAULT.withLogitBias(Map.of(-1, 1f)));
        assertEquals(Map.of(), SamplingParams.DEFAULT.logitBias());
    }

    @Test
    void greedyTakesTheLowestIdAmongTies() {
        assertEquals(1, new Sampler(SamplingParams.GREEDY).sample(new float[] {0f, 5f, 2f, 5f}, NONE));
        assertEquals(2, Sampler.argmax(new float[] {Float.NEGATIVE_INFINITY, -1f, 7f, Float.NaN}));
    }

    @Test
    void sameSeedSameSequenceOtherSeedOtherSequence() {
        float[] logits = new float[1000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.sin(i);
        }
        int[] first = drawSequence(logits, 123);
        assertArrayEquals(first, drawSequence(logits, 123));
        assertNotEquals(Arrays.toString(first), Arrays.toString(drawSequence(logits, 124)));
    }

    private static int[] drawSequence(float[] logits, long seed) {
        Sampler sampler = new Sampler(SamplingParams.DEFAULT.withSeed(seed).withTopK(200).withTopP(0.95f));
        return IntStream.range(0, 100).map(i -> sampler.sample(logits.clone(), NONE)).toArray();
    }

    @Test
    void rejectsOutOfRangeParametersAndIds() {
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.DEFAULT.withTopP(0f));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.DEFAULT.withTemperature(-1f));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.DEFAULT.withRepetitionPenalty(0f));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Sampler(SamplingParams.DEFAULT.withRepetitionPenalty(1.2f)).sample(new float[3],
                        new int[] {3}));
        assertEquals("seen id 3 is outside the vocabulary [0, 3)", e.getMessage());
    }
}
