package dev.tailor.cost;

/** Kernel times with round figures, so that tests price runs without measuring the machine. */
public final class TestKernels {
    private static final int[] ROWS = {1, 4, 16, 64, 256};
    private static final int[] SIZES = {16, 64, 256, 1024, 4096};

    private TestKernels() {
    }

    /**
     * A grid whose products take {@code overhead + perMac·m·n·k} seconds; with no overhead its interpolation between
     * and beyond the grid points is exact (a power law).
     */
    public static ProductGrid grid(double overhead, double perMac) {
        double[] seconds = new double[ROWS.length * SIZES.length * SIZES.length];
        for (int i = 0; i < ROWS.length; i++) {
            for (int j = 0; j < SIZES.length; j++) {
                for (int l = 0; l < SIZES.length; l++) {
                    seconds[(i * SIZES.length + j) * SIZES.length + l] = overhead
                            + perMac * ROWS[i] * SIZES[j] * SIZES[l];
                }
            }
        }
        return new ProductGrid(ROWS, SIZES, SIZES, seconds);
    }

    /**
     * Kernels whose linear products take {@code perMac} seconds per multiply-add and nothing else costs anything
     * (attention's products a negligible {@code 1e-30} per multiply-add).
     */
    public static KernelTimes perMac(double perMac) {
        ProductGrid g = grid(0, perMac);
        return new KernelTimes(g, g, g, grid(0, 1e-30), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** Plausible kernels of a small machine: products with a call overhead, element-wise work and overheads. */
    public static KernelTimes machine() {
        ProductGrid g = grid(5e-6, 1e-11);
        return new KernelTimes(g, g, g, grid(1e-7, 2e-11), 1e-9, 2e-9, 1e-9, 3e-9, 2e-9, 5e-10, 3e-9, 1e-6, 1e-4,
                2e-5);
    }

    /** A {@code this-machine} profile with {@code kernels}. */
    public static HardwareProfile profile(KernelTimes kernels) {
        return new HardwareProfile("this-machine", "the test's machine, 2 kernel threads", 0.1, 0.1, 24_000_000_000L,
                2e10, 0, 0.5, "the test", kernels);
    }
}
