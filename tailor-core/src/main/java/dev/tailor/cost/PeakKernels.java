package dev.tailor.cost;

import dev.tailor.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * The loops that measure a processor's limits rather than a model's work: fused multiply-adds on independent
 * accumulators (nothing but arithmetic, so the rate is the vector units' peak) and passes over native memory (read,
 * copy, triad) that move bytes and do next to no arithmetic. Each returns a value computed from what it did, so the
 * compiler cannot drop the work.
 */
final class PeakKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Independent accumulator chains: enough to cover an FMA's latency (4-5 cycles) on two units. */
    static final int CHAINS = 12;
    /** Bytes one step of the memory loops covers: four vectors. */
    static final int BLOCK = 4 * F.vectorByteSize();

    private PeakKernels() {
    }

    /** Floating-point operations of {@link #fma}{@code (iterations)}: two per lane per chain per iteration. */
    static double fmaFlops(int iterations) {
        return 2.0 * CHAINS * F.length() * iterations;
    }

    /**
     * {@code iterations} rounds of {@value #CHAINS} independent vector FMAs ({@code acc = acc·x + y}, converging to a
     * finite value); returns the accumulators' sum.
     */
    static float fma(int iterations) {
        FloatVector x = FloatVector.broadcast(F, 0.999f);
        FloatVector y = FloatVector.broadcast(F, 1e-3f);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        FloatVector a8 = a0;
        FloatVector a9 = a0;
        FloatVector a10 = a0;
        FloatVector a11 = a0;
        for (int i = 0; i < iterations; i++) {
            a0 = a0.fma(x, y);
            a1 = a1.fma(x, y);
            a2 = a2.fma(x, y);
            a3 = a3.fma(x, y);
            a4 = a4.fma(x, y);
            a5 = a5.fma(x, y);
            a6 = a6.fma(x, y);
            a7 = a7.fma(x, y);
            a8 = a8.fma(x, y);
            a9 = a9.fma(x, y);
            a10 = a10.fma(x, y);
            a11 = a11.fma(x, y);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** {@link #fma}{@code (iterations)} once on every kernel thread at the same time; returns the sum of their sums. */
    static double fmaAllThreads(int iterations) {
        DoubleAdder sum = new DoubleAdder();
        Parallel.parallelFor(Parallel.threads(), t -> sum.add(fma(iterations)));
        return sum.sum();
    }

    /**
     * The sum of the floats in bytes {@code [from, to)} of {@code seg} ({@code from} and {@code to} multiples of
     * {@link #BLOCK}).
     */
    static float read(MemorySegment seg, long from, long to) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        long step = F.vectorByteSize();
        for (long o = from; o < to; o += BLOCK) {
            s0 = s0.add(FloatVector.fromMemorySegment(F, seg, o, LE));
            s1 = s1.add(FloatVector.fromMemorySegment(F, seg, o + step, LE));
            s2 = s2.add(FloatVector.fromMemorySegment(F, seg, o + 2 * step, LE));
            s3 = s3.add(FloatVector.fromMemorySegment(F, seg, o + 3 * step, LE));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }

    /** {@link #read} over all of {@code seg} (a multiple of {@link #BLOCK} bytes), split over the kernel threads. */
    static double readAllThreads(MemorySegment seg) {
        DoubleAdder sum = new DoubleAdder();
        Parallel.parallelForRange(blocks(seg.byteSize()),
                (from, to) -> sum.add(read(seg, (long) from * BLOCK, (long) to * BLOCK)));
        return sum.sum();
    }

    /** Copies the first half of {@code seg} onto its second, split over the kernel threads. */
    static void copyAllThreads(MemorySegment seg) {
        long half = seg.byteSize() / 2;
        Parallel.parallelForRange(blocks(half), (from, to) -> MemorySegment.copy(seg, (long) from * BLOCK, seg,
                half + (long) from * BLOCK, (long) (to - from) * BLOCK));
    }

    /**
     * STREAM's triad on the thirds of {@code seg}: {@code a = b + s·c}, {@code a} the first third, split over the
     * kernel threads.
     */
    static void triadAllThreads(MemorySegment seg) {
        int thirdBlocks = blocks(seg.byteSize() / 3);
        long third = (long) thirdBlocks * BLOCK;
        FloatVector s = FloatVector.broadcast(F, 0.5f);
        long step = F.vectorByteSize();
        Parallel.parallelForRange(thirdBlocks, (from, to) -> {
            for (long o = (long) from * BLOCK; o < (long) to * BLOCK; o += step) {
                FloatVector.fromMemorySegment(F, seg, o + 2 * third, LE).fma(s,
                        FloatVector.fromMemorySegment(F, seg, o + third, LE)).intoMemorySegment(seg, o, LE);
            }
        });
    }

    /** The whole blocks in {@code bytes}. */
    static int blocks(long bytes) {
        return Math.toIntExact(bytes / BLOCK);
    }
}
