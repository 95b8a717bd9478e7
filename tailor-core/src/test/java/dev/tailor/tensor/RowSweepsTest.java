package dev.tailor.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link RowSweeps}: the rows a kernel takes side by side cover its range exactly once each, apart from the last row,
 * which stands in for the missing ones when the range is not a multiple of the group.
 */
class RowSweepsTest {
    @Test
    void quartersCoverTheRangeAndRepeatOnlyItsLastRow() {
        for (int j0 : new int[] {0, 5, 1000}) {
            for (int len = 1; len <= 41; len++) {
                int j1 = j0 + len;
                int sweep = RowSweeps.quarter(j0, j1);
                int[] seen = new int[len];
                for (int j = j0; j < j0 + sweep; j++) {
                    for (int s = 0; s < 4; s++) {
                        int row = Math.min(j + s * sweep, j1 - 1);
                        assertTrue(row >= j0 && row < j1, "row " + row + " of [" + j0 + ", " + j1 + ")");
                        seen[row - j0]++;
                    }
                }
                assertCoveredOnce(seen, 4 * sweep - len, "quarters of " + len);
            }
        }
    }

    @Test
    void halvesCoverTheRangeAndRepeatOnlyItsLastRow() {
        for (int len = 1; len <= 17; len++) {
            int sweep = RowSweeps.half(3, 3 + len);
            int[] seen = new int[len];
            for (int j = 3; j < 3 + sweep; j++) {
                seen[j - 3]++;
                seen[Math.min(j + sweep, 3 + len - 1) - 3]++;
            }
            assertCoveredOnce(seen, 2 * sweep - len, "halves of " + len);
        }
    }

    @Test
    void fourRowsOfAQuarterAreAQuarterApart() {
        assertEquals(24, RowSweeps.quarter(0, 96));
        assertEquals(25, RowSweeps.quarter(10, 107));
        assertEquals(0, RowSweeps.quarter(7, 7));
        assertEquals(3, RowSweeps.half(0, 5));
    }

    private static void assertCoveredOnce(int[] seen, int extra, String what) {
        for (int r = 0; r < seen.length - 1; r++) {
            assertEquals(1, seen[r], what + ": row " + r);
        }
        assertEquals(1 + extra, seen[seen.length - 1], what + ": the last row");
        assertTrue(extra < 4, what);
    }
}
