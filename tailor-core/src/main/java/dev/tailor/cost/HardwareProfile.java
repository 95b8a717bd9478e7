package dev.tailor.cost;

/**
 * A machine a run is priced on: its peak arithmetic, memory and price, as {@code hardware.json} (or a user's file)
 * gives them, or as {@link MachineCalibration} measures this machine.
 *
 * @param name           how it is chosen ({@code H100}, {@code this-machine})
 * @param description    one line for people
 * @param bf16Tflops     dense peak of 16-bit matrix products in TFLOP/s (without sparsity); for this machine, Tailor's
 *                       own product with BF16 weights
 * @param fp32Tflops     dense peak of float32 arithmetic in TFLOP/s; for this machine, Tailor's float32 product
 * @param memoryBytes    the memory a run can use (a GPU's, this machine's physical memory)
 * @param bandwidth      memory bandwidth in bytes per second
 * @param pricePerHour   what an hour costs, in the currency of the profile's source (0 when unknown)
 * @param utilization    the share of the peak a training run reaches by default (model FLOPs utilisation)
 * @param source         where the figures come from
 * @param kernels        for {@code this-machine}, Tailor's kernels measured on it, which price a run shape by shape
 *                       ({@link PassTime}) instead of at the peak times the utilisation; null for a profile of
 *                       datasheet figures
 */
public record HardwareProfile(String name, String description, double bf16Tflops, double fp32Tflops,
                              long memoryBytes, double bandwidth, double pricePerHour, double utilization,
                              String source, KernelTimes kernels) {

    /** A profile of datasheet figures, without kernel times. */
    public HardwareProfile(String name, String description, double bf16Tflops, double fp32Tflops, long memoryBytes,
                           double bandwidth, double pricePerHour, double utilization, String source) {
        this(name, description, bf16Tflops, fp32Tflops, memoryBytes, bandwidth, pricePerHour, utilization, source,
                null);
    }

    /**
     * Checks the figures.
     *
     * @throws IllegalArgumentException naming the profile and the figure that is not positive (or a utilisation
     *                                  outside (0, 1])
     */
    public HardwareProfile {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a hardware profile needs a name");
        }
        positive(name, "bf16_tflops", bf16Tflops);
        positive(name, "fp32_tflops", fp32Tflops);
        positive(name, "memory_gb", memoryBytes);
        positive(name, "bandwidth_gb_s", bandwidth);
        if (!(pricePerHour >= 0) || Double.isInfinite(pricePerHour)) {
            throw new IllegalArgumentException("hardware profile " + name + ": price_per_hour must be >= 0, got "
                    + pricePerHour);
        }
        if (!(utilization > 0 && utilization <= 1)) {
            throw new IllegalArgumentException("hardware profile " + name + ": utilization must be in (0, 1], got "
                    + utilization);
        }
    }

    private static void positive(String name, String field, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("hardware profile " + name + ": " + field + " must be > 0, got "
                    + value);
        }
    }

    /** The peak in FLOP/s of products computed in {@code precision} (16-bit types on the 16-bit peak). */
    public double peakFlops(Precision precision) {
        return (precision == Precision.F32 ? fp32Tflops : bf16Tflops) * 1e12;
    }
}
