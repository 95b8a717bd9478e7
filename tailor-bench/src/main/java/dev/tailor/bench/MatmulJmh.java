package dev.tailor.bench;

import dev.tailor.tensor.DType;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmark of {@link MatMul#matmulTransposed}: {@code Y[M,N] = X[M,K]·Wᵀ} with W in native memory as
 * F32, BF16 or F16. Shapes are {@code "MxKxN"}; GFLOP/s = {@code 2·M·K·N / time}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatmulJmh {
    /** {@code MxKxN} (not comma-separated: JMH's {@code -p} splits on commas). */
    @Param({"512x576x1536", "512x1536x576", "1x576x1536", "1x576x49152", "1x2048x8192"})
    public String shape;

    /** Weight element type. */
    @Param({"F32", "BF16"})
    public String dtype;

    private Arena arena;
    private float[] x;
    private float[] y;
    private WeightMatrix w;
    private int m;

    /** Allocates the operands for the current parameters. */
    @Setup(Level.Trial)
    public void setUp() {
        String[] parts = shape.split("x");
        m = Integer.parseInt(parts[0]);
        int k = Integer.parseInt(parts[1]);
        int n = Integer.parseInt(parts[2]);
        SplittableRandom rnd = new SplittableRandom(1);
        arena = Arena.ofShared();
        w = MatmulBench.randomWeight(arena, n, k, DType.valueOf(dtype), rnd);
        x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        y = new float[m * n];
    }

    /** Frees the native weight. */
    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** One product; returns Y so it is not optimized away. */
    @Benchmark
    public float[] matmulTransposed() {
        MatMul.matmulTransposed(x, m, w, y);
        return y;
    }
}
