package dev.tailor.tensor;

/**
 * How the product kernels walk W's rows: a kernel that computes four (or eight, or two) W rows side by side takes
 * them a quarter (an eighth, a half) of its range apart, not adjacent, so that each of its streams through W is one
 * sequential sweep through memory.
 *
 * <p>Four adjacent rows read side by side are four interleaved positions in the same few pages; the hardware
 * prefetcher follows one ascending stream per page and loses track of them, so a row of a quantized matrix, whose
 * kernels do more work per byte than F32's, waited on memory: the Q8_0 one-row product over a model-sized W ran at
 * 0.20 ns per weight on one core with adjacent rows and at 0.084 with rows a quarter of the range apart (the same
 * arithmetic on the same rows, so the same bits). The last rows repeat the range's last row when its length is not a
 * multiple of four, as the adjacent grouping did.
 */
final class RowSweeps {
    private RowSweeps() {
    }

    /**
     * Rows per sweep when rows {@code [j0, j1)} are taken four at a time: row {@code j} of the first quarter goes with
     * {@code j + q}, {@code j + 2q} and {@code j + 3q} (each capped at {@code j1 - 1}).
     */
    static int quarter(int j0, int j1) {
        return (j1 - j0 + 3) >>> 2;
    }

    /**
     * Rows per sweep when rows {@code [j0, j1)} are taken eight at a time: row {@code j} of the first eighth goes with
     * {@code j + e}, {@code j + 2e} … {@code j + 7e} (each capped at {@code j1 - 1}).
     */
    static int eighth(int j0, int j1) {
        return (j1 - j0 + 7) >>> 3;
    }

    /** Rows per sweep when rows {@code [j0, j1)} are taken two at a time: row {@code j} goes with {@code j + h}. */
    static int half(int j0, int j1) {
        return (j1 - j0 + 1) >>> 1;
    }
}
