package dev.tailor.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tailor.tensor.Ops;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link RotaryEmbedding}'s tables grow with the positions used, and a position rotates the same whatever their size. */
class RotaryEmbeddingTest {
    private static final int HEAD_DIM = 128;
    private static final int HEADS = 3;

    @Test
    void aMillionPositionContextTabulatesOnlyWhatIsUsed() {
        RotaryEmbedding rope = new RotaryEmbedding(HEAD_DIM, 1_000_000, null, 1_010_000);
        assertEquals(1_010_000, rope.maxPositions());
        assertEquals(RotaryEmbedding.INITIAL_POSITIONS, rope.tabulatedPositions());
        rope.apply(new float[HEADS * HEAD_DIM], 0, HEADS, 5000);
        assertEquals(2 * RotaryEmbedding.INITIAL_POSITIONS, rope.tabulatedPositions());
        rope.apply(new float[HEADS * HEAD_DIM], 0, HEADS, 40_000);
        assertEquals(40_001, rope.tabulatedPositions());
        rope.apply(new float[HEADS * HEAD_DIM], 0, HEADS, 100);
        assertEquals(40_001, rope.tabulatedPositions());
    }

    @Test
    void positionsRotateAsTablesBuiltForThemWhateverTheGrowth() {
        RotaryEmbedding rope = new RotaryEmbedding(HEAD_DIM, 500_000, null, 131_072);
        double[] inv = RopeTables.inverseFrequencies(HEAD_DIM, 500_000, null);
        SplittableRandom rnd = new SplittableRandom(3);
        for (int pos : new int[] {0, 4095, 4096, 9000, 70_000, 131_071, 17}) {
            float[] x = new float[HEADS * HEAD_DIM];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            float[] expected = x.clone();
            RopeTables own = RopeTables.build(inv, pos + 1);
            Ops.rope(expected, 0, HEADS, HEAD_DIM, pos, own.cos(), own.sin());
            float[] back = expected.clone();
            rope.apply(x, 0, HEADS, pos);
            assertArrayEquals(expected, x, "position " + pos);
            rope.applyInverse(back, 0, HEADS, pos);
            float[] negSin = own.sin().clone();
            for (int i = 0; i < negSin.length; i++) {
                negSin[i] = -negSin[i];
            }
            float[] expectedBack = expected.clone();
            Ops.rope(expectedBack, 0, HEADS, HEAD_DIM, pos, own.cos(), negSin);
            assertArrayEquals(expectedBack, back, "inverse at position " + pos);
        }
    }

    @Test
    void aPositionOutsideTheContextIsNamed() {
        RotaryEmbedding rope = new RotaryEmbedding(HEAD_DIM, 10_000, null, 8192);
        var e = assertThrows(IllegalArgumentException.class, () -> rope.apply(new float[HEAD_DIM], 0, 1, 8192));
        assertTrue(e.getMessage().contains("position 8192") && e.getMessage().contains("8192 positions"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> rope.applyInverse(new float[HEAD_DIM], 0, 1, -1));
    }
}
