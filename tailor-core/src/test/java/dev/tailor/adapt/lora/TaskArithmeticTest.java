package dev.tailor.adapt.lora;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEFT's merge_utils on cases small enough to work out by hand. */
class TaskArithmeticTest {
    private static final float[] T1 = {1, -2, 3, 0.5f};
    private static final float[] T2 = {-2, 1, 1, -0.1f};
    private static final double[] W = {1, 0.5};

    @Test
    void magnitudePruningKeepsTheLargestAndTheEarlierOnTies() {
        assertArrayEquals(new float[] {0, -3, 2, 0}, TaskArithmetic.pruneMagnitude(new float[] {1, -3, 2, -0.5f}, 0.5));
        assertArrayEquals(new float[] {-2, 1, 0, 0}, TaskArithmetic.pruneMagnitude(T2, 0.5));
        assertArrayEquals(new float[] {0, 0, 3, 0}, TaskArithmetic.pruneMagnitude(T1, 0.3), "int(0.3·4) = 1");
        assertArrayEquals(new float[4], TaskArithmetic.pruneMagnitude(T1, 0.2), "int(0.2·4) = 0");
        assertArrayEquals(T1, TaskArithmetic.pruneMagnitude(T1, 1));
    }

    @Test
    void tiesElectsSignsAndAveragesTheAgreeingWeightedValues() {
        // total: sums −1, −1, 4, 0.4 → signs −, −, +, +; t1 keeps 1..3, t2 keeps 0 and 2
        assertArrayEquals(new float[] {-1, -2, 1.75f, 0.5f},
                TaskArithmetic.ties(new float[][] {T1, T2}, W, 1, MajoritySignMethod.TOTAL), 1e-6f);
        // frequency: sign sums 0, 0, 2, 0 → all + (ties go to +); t1 keeps 0, 2, 3, t2 keeps 1 and 2
        assertArrayEquals(new float[] {1, 0.5f, 1.75f, 0.5f},
                TaskArithmetic.ties(new float[][] {T1, T2}, W, 1, MajoritySignMethod.FREQUENCY), 1e-6f);
        // density 0.5: t1 → 0, −2, 3, 0; t2 → −2, 1, 0, 0; totals −2, −1, 3, 0 → −, −, +, +; zeros never count
        assertArrayEquals(new float[] {-1, -2, 3, 0},
                TaskArithmetic.ties(new float[][] {T1, T2}, W, 0.5, MajoritySignMethod.TOTAL), 1e-6f);
    }

    @Test
    void magnitudePruneIsThePrunedWeightedSum() {
        // t1 → 0, −2, 3, 0; t2·0.5 → −1, 0.5, 0, 0
        assertArrayEquals(new float[] {-1, -1.5f, 3, 0},
                TaskArithmetic.magnitudePrune(new float[][] {T1, T2}, W, 0.5), 1e-6f);
        assertArrayEquals(new float[] {0, -1.5f, 3.5f, 0.45f},
                TaskArithmetic.taskArithmetic(new float[][] {T1, T2}, W), 1e-6f);
    }

    @Test
    void dareKeepsAboutTheDensityRescaledAndIsSeeded() {
        SplittableRandom values = new SplittableRandom(5);
        float[] t = new float[20_000];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) values.nextDouble(0.5, 1.5);
        }
        float[] pruned = TaskArithmetic.pruneRandom(t, 0.3, new SplittableRandom(9));
        int kept = 0;
        double sum = 0;
        double prunedSum = 0;
        for (int i = 0; i < t.length; i++) {
            if (pruned[i] != 0) {
                kept++;
                assertEquals(t[i] / 0.3, pruned[i], 1e-5, "kept values are rescaled by 1/density");
            }
            sum += t[i];
            prunedSum += pruned[i];
        }
        double sd = Math.sqrt(t.length * 0.3 * 0.7);
        assertTrue(Math.abs(kept - 0.3 * t.length) < 4 * sd, "kept " + kept);
        assertEquals(sum, prunedSum, 0.03 * sum, "the expected value is preserved");
        assertArrayEquals(pruned, TaskArithmetic.pruneRandom(t, 0.3, new SplittableRandom(9)), "same seed");
        float[][] tasks = {T1, T2};
        assertArrayEquals(TaskArithmetic.taskArithmetic(tasks, W),
                TaskArithmetic.dareLinear(tasks, W, 1, new SplittableRandom(1)));
        assertArrayEquals(TaskArithmetic.ties(tasks, W, 1, MajoritySignMethod.TOTAL),
                TaskArithmetic.dareTies(tasks, W, 1, MajoritySignMethod.TOTAL, new SplittableRandom(1)));
        // dare_ties at density 0.5 is ties' election and disjoint merge over the DARE-pruned tasks
        float[] p1 = TaskArithmetic.pruneRandom(T1, 0.5, new SplittableRandom(3));
        SplittableRandom replay = new SplittableRandom(3);
        TaskArithmetic.pruneRandom(T1, 0.5, replay);
        float[] p2 = TaskArithmetic.pruneRandom(T2, 0.5, replay);
        float[][] pruned2 = {p1, p2};
        assertArrayEquals(TaskArithmetic.disjointMerge(pruned2, W,
                        TaskArithmetic.majoritySign(pruned2, MajoritySignMethod.TOTAL)),
                TaskArithmetic.dareTies(tasks, W, 0.5, MajoritySignMethod.TOTAL, new SplittableRandom(3)));
    }
}
