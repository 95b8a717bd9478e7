package dev.tailor.cost;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A product's time read off a grid of measured shapes. */
class ProductGridTest {

    @Test
    void aShapeOfTheGridIsPricedAtItsMeasuredTime() {
        double[] seconds = new double[2 * 2 * 3];
        for (int i = 0; i < seconds.length; i++) {
            seconds[i] = 1e-6 * (7 + 3 * i + (i % 2 == 0 ? 5 : 0));
        }
        ProductGrid g = new ProductGrid(new int[] {4, 64}, new int[] {16, 256}, new int[] {16, 64, 1024}, seconds);
        assertEquals(seconds[0], g.seconds(4, 16, 16), 1e-18);
        assertEquals(seconds[(1 * 2 + 0) * 3 + 2], g.seconds(64, 16, 1024), 1e-18);
        assertEquals(seconds[(0 * 2 + 1) * 3 + 1], g.seconds(4, 256, 64), 1e-18);
        assertEquals(0, g.seconds(0, 16, 16));
    }

    @Test
    void betweenAndBeyondTheGridAPowerLawIsFollowedExactly() {
        ProductGrid g = TestKernels.grid(0, 2e-12);
        for (double[] s : new double[][] {{128, 64, 64}, {100, 300, 50}, {3, 4000, 700}, {512, 1536, 576},
                {2048, 32000, 4096}}) {
            double expected = 2e-12 * s[0] * s[1] * s[2];
            assertEquals(expected, g.seconds(s[0], s[1], s[2]), 1e-9 * expected, java.util.Arrays.toString(s));
        }
        assertEquals(g.seconds(1, 16, 16), g.seconds(1, 8, 4), 1e-20,
                "below the smallest sizes a product is its call's overhead");
    }

    @Test
    void theTimeGrowsWithEverySize() {
        ProductGrid g = TestKernels.grid(4e-6, 1e-11);
        double[] sizes = {1, 3, 10, 16, 40, 64, 100, 200, 256, 700, 1024, 3000, 4096, 10000};
        for (int i = 1; i < sizes.length; i++) {
            double a = sizes[i - 1];
            double b = sizes[i];
            assertTrue(g.seconds(b, 64, 64) >= g.seconds(a, 64, 64), "rows " + a + " -> " + b);
            assertTrue(g.seconds(64, b, 64) >= g.seconds(64, a, 64), "outputs " + a + " -> " + b);
            assertTrue(g.seconds(64, 64, b) >= g.seconds(64, 64, a), "inner " + a + " -> " + b);
        }
        assertTrue(g.seconds(256, 4096, 4096) > 100 * g.seconds(4, 64, 64));
    }

    @Test
    void aGridIsReadBackFromItsJsonAndABadOneIsRefused() {
        ProductGrid g = TestKernels.grid(1e-6, 1e-11);
        assertEquals(g, ProductGrid.of(g.json()));
        var e = assertThrows(IllegalArgumentException.class, () -> new ProductGrid(new int[] {4, 4}, new int[] {16},
                new int[] {16}, new double[] {1, 1}));
        assertTrue(e.getMessage().contains("rows"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ProductGrid(new int[] {4}, new int[] {16},
                new int[] {16}, new double[] {1, 1}));
        assertTrue(e.getMessage().contains("needs as many times"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ProductGrid(new int[] {4}, new int[] {16},
                new int[] {16}, new double[] {0}));
        assertTrue(e.getMessage().contains("> 0"), e.getMessage());
    }
}
