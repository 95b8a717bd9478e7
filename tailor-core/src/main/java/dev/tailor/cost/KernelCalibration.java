package dev.tailor.cost;

import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.AdapterMethods;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.RotaryEmbedding;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.MatMulNN;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.Parameter;
import dev.tailor.tensor.VectorMath;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.train.RandomInit;
import dev.tailor.train.TrainingMethod;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.Norm;
import dev.tailor.train.nn.TrainableLlama;
import dev.tailor.train.optim.AdamW;
import dev.tailor.train.optim.GradClip;

import java.lang.foreign.MemorySegment;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * Measures {@link KernelTimes}: Tailor's own kernels timed once the just-in-time compiler is done with them, each
 * figure the best of several short tries (a try that another process interrupted only comes out slower, so the best
 * is the closest to the machine's own speed).
 *
 * <ul>
 *   <li>The three products of a linear layer over rows {@code 1, 4, 16, 64, 256} and outputs and inner sizes
 *   {@code 16, 64, 256, 1024, 4096} (float32 weights), and attention's row-major product on one thread over rows
 *   {@code 16, 64, 128} and the same sizes.</li>
 *   <li>Per value, on arrays large enough that a call's own overhead does not count: RMSNorm's forward and input
 *   gradient ({@code [256, 1024]}), RoPE ({@code 256} rows of 16 heads of 64), a softmax row's maximum and
 *   exponentials ({@code 4096} values, one thread), SwiGLU's forward and a sum ({@code 256·1024} values).</li>
 *   <li>The optimizer per value (a tensor of 2²⁰ values: its gradient clipped, AdamW's step, the gradient zeroed) and
 *   per tensor (256 tensors of 64 values).</li>
 *   <li>What a pass, a block and a frozen head's chunk cost beyond all that: training passes of small random models
 *   (hidden 128, 64 tokens, every block's linears trained; 1 to 4 blocks with a 512-token vocabulary, 1 block with
 *   four chunks' worth) timed, less what {@link PassTime} prices them at without these overheads: a line through the
 *   depths' residuals (each the least of two, measured in turn) gives a pass's and a block's, the difference between
 *   four chunks and one three chunks' (with every token labelled and with the last four only, which splits a chunk's
 *   cost into a part per chunk and a part per row with a loss).</li>
 *   <li>What each registered adapter method costs beyond its pieces' FLOPs (its own calls): a 2-block small model
 *   with the method's defaults timed, less its price, per piece (or per pass when it has none).</li>
 * </ul>
 * The element-wise rates are measured twice, after the grids and after the small models have run, and the better
 * kept: the compiler, busy with the products, may finish their kernels late. About ten seconds in a fresh JVM, most
 * of it the compiler's.
 */
final class KernelCalibration {
    static final int[] ROWS = {1, 4, 16, 64, 256};
    static final int[] OUTS = {16, 64, 256, 1024, 4096};
    static final int[] INS = {16, 64, 256, 1024};
    static final int[] ATTENTION_ROWS = {16, 64, 128};
    /** How long one try of a fast call runs (repeating it), in ns. */
    private static final long TRY_NANOS = 300_000;
    private static final int TRIES = 3;
    private static final int MAX_TRIES = 12;
    private static final double SETTLED = 0.05;
    private static final int REMEASURES = 2;
    private static final int FAST_TRIES = 5;
    private static final double MAX_WARM_SECONDS = 8;
    private static final int MIN_WARM_ROUNDS = 50;
    /** The compiler finishes the kernels' tiers one after another, with quiet spells between: warm at least this long. */
    private static final double MIN_WARM_SECONDS = 2.5;
    /** An element-wise kernel or the optimizer is timed for at least this long, in ns, however soon it settles. */
    private static final long SETTLE_NANOS = 40_000_000;
    /** The shapes the warm-up runs, as indices into {@link #OUTS} and {@link #INS}, up to {@value #WARM_MAX} MACs. */
    private static final int[][] WARM_SHAPES = {{0, 0}, {1, 1}, {2, 0}, {4, 0}, {4, 1}};
    private static final int WARM_MAX = 1 << 20;
    private static final double QUIET_WINDOW_SECONDS = 0.25;
    private static final long QUIET_MILLIS = 5;
    private static final int MAX = 4096;
    /** The small models' depths, 1 to this many blocks, whose residuals a line through gives a pass's and a block's. */
    private static final int DEPTHS = 4;
    /** Each depth's residual is the least of this many, measured in turn. */
    private static final int ROUNDS = 2;
    /** Training passes each small model runs before it is timed. */
    private static final int WARM_PASSES = 300;
    /** The values of a warm-up's serial call of an element-wise kernel. */
    private static final int SMALL = 1024;
    /** Serial calls of each element-wise kernel per round of the warm-up, so the compiler sees thousands. */
    private static final int WARM_CALLS = 100;

    private final SplittableRandom rnd = new SplittableRandom(11);
    private final float[] x = random(256 * MAX);
    private final float[] w = random(MAX * MAX);
    private final float[] y = new float[256 * MAX];
    private final float[] grad = new float[MAX * MAX];
    private final WeightMatrix[][] weights = new WeightMatrix[OUTS.length][INS.length];

    private KernelCalibration() {
        for (int j = 0; j < OUTS.length; j++) {
            for (int l = 0; l < INS.length; l++) {
                weights[j][l] = new WeightMatrix(MemorySegment.ofArray(w).asSlice(0, (long) Float.BYTES * OUTS[j]
                        * INS[l]), DType.F32, OUTS[j], INS[l]);
            }
        }
    }

    /** Measures this machine's kernels now. */
    static KernelTimes measure() {
        return new KernelCalibration().run();
    }

    private KernelTimes run() {
        warm();
        ProductGrid forward = grid(ROWS, (m, j, l) -> MatMul.matmulTransposed(x, m, weights[j][l], y));
        ProductGrid inputGrad = grid(ROWS, (m, j, l) -> LinearBackward.inputGrad(x, m, weights[j][l], y));
        ProductGrid weightGrad = grid(ROWS, (m, j, l) -> LinearBackward.weightGrad(x, y, m, OUTS[j], INS[l], grad));
        ProductGrid attention = grid(ATTENTION_ROWS, (m, j, l) -> MatMulNN.matmul(x, 0, m, INS[l], w, 0, OUTS[j], y,
                0));
        List<SmallModel> depths = new ArrayList<>();
        for (int layers = 1; layers <= DEPTHS; layers++) {
            depths.add(SmallModel.linears(layers, SmallModel.VOCAB));
        }
        SmallModel chunks = SmallModel.linears(1, SmallModel.CHUNKED_VOCAB);
        KernelTimes rates = rates(forward, inputGrad, weightGrad, attention);
        KernelTimes again = rates(forward, inputGrad, weightGrad, attention);
        KernelTimes best = new KernelTimes(forward, inputGrad, weightGrad, attention,
                Math.min(rates.normForward(), again.normForward()), Math.min(rates.normBackward(),
                again.normBackward()), Math.min(rates.rope(), again.rope()), Math.min(rates.softmax(), again.softmax()),
                Math.min(rates.silu(), again.silu()), Math.min(rates.add(), again.add()),
                Math.min(rates.optimizerValue(), again.optimizerValue()),
                Math.min(rates.optimizerTensor(), again.optimizerTensor()), 0, 0);
        double[] residuals = new double[DEPTHS];
        Arrays.fill(residuals, Double.POSITIVE_INFINITY);
        for (int round = 0; round < ROUNDS; round++) {
            for (int l = 0; l < DEPTHS; l++) {
                residuals[l] = Math.min(residuals[l], depths.get(l).residual(best, false));
            }
        }
        double[] fit = line(residuals);
        double block = Math.max(0, fit[1]);
        double pass = Math.max(0, block == fit[1] ? fit[0] : Arrays.stream(residuals).average().orElse(0));
        double residualOne = residuals[0];
        double chunkAll = (chunks.residual(best, false) - residualOne) / (SmallModel.CHUNKS - 1);
        double chunkFew = (chunks.residual(best, true) - depths.getFirst().residual(best, true))
                / (SmallModel.CHUNKS - 1);
        double chunkRow = Math.max(0, (chunkAll - chunkFew) / (SmallModel.N - 1 - SmallModel.FEW));
        double chunk = Math.max(0, chunkFew - SmallModel.FEW * chunkRow);
        KernelTimes base = best.withOverheads(pass, block, chunk, chunkRow, Map.of());
        Map<String, KernelTimes.AdapterOverhead> adapters = new TreeMap<>();
        for (String name : AdapterMethods.names()) {
            SmallModel.adapter(name).ifPresent(m -> {
                double residual = Math.max(0, m.residual(base, false));
                int pieces = m.parts.adapter().pieces().size();
                adapters.put(name, pieces > 0 ? new KernelTimes.AdapterOverhead(0, residual / pieces)
                        : new KernelTimes.AdapterOverhead(residual, 0));
            });
        }
        return best.withOverheads(pass, block, chunk, chunkRow, adapters);
    }

    /**
     * The least-squares line {@code a + b·L} through {@code y[L − 1]} for {@code L = 1 … y.length}, as
     * {@code {a, b}}.
     */
    static double[] line(double[] y) {
        int n = y.length;
        double mx = (n + 1) / 2.0;
        double my = Arrays.stream(y).average().orElse(0);
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < n; i++) {
            sxy += (i + 1 - mx) * (y[i] - my);
            sxx += (i + 1 - mx) * (i + 1 - mx);
        }
        double b = sxx == 0 ? 0 : sxy / sxx;
        return new double[] {my - b * mx, b};
    }

    /** The element-wise and optimizer rates measured now, with {@code grids}, no overheads. */
    private KernelTimes rates(ProductGrid forward, ProductGrid inputGrad, ProductGrid weightGrad, ProductGrid attention) {
        double optimizerValue = optimizerValue();
        return new KernelTimes(forward, inputGrad, weightGrad, attention, normForward(false), normBackward(false),
                rope(false), softmax(false), silu(false), add(false), optimizerValue, optimizerTensor(optimizerValue), 0,
                0);
    }

    /** One product of a grid: {@code m} rows, outputs {@code OUTS[j]}, inner size {@code INS[l]}. */
    @FunctionalInterface
    private interface Product {
        void run(int m, int j, int l);
    }

    /**
     * Times {@code product} at every shape of the grid; then times again, up to {@value #REMEASURES} times, each shape
     * that came out more than {@value #SETTLED} slower than a larger one next to it (a kernel the compiler had just
     * thrown back to the interpreter, or a try another process held up), and finally takes for each shape the least
     * time of any shape at least as large in every size (a product cannot take longer than one containing it).
     */
    private ProductGrid grid(int[] rows, Product product) {
        int no = OUTS.length;
        int ni = INS.length;
        double[] seconds = new double[rows.length * no * ni];
        for (int pass = 0; pass <= REMEASURES; pass++) {
            boolean again = false;
            for (int i = 0; i < rows.length; i++) {
                for (int j = 0; j < no; j++) {
                    for (int l = 0; l < ni; l++) {
                        int at = (i * no + j) * ni + l;
                        if (pass > 0 && !slowerThanLarger(seconds, rows.length, i, j, l)) {
                            continue;
                        }
                        int m = rows[i];
                        int jj = j;
                        int ll = l;
                        double t = best(() -> product.run(m, jj, ll));
                        seconds[at] = pass == 0 ? t : Math.min(seconds[at], t);
                        again = true;
                    }
                }
            }
            if (!again) {
                break;
            }
        }
        for (int i = rows.length - 1; i >= 0; i--) {
            for (int j = no - 1; j >= 0; j--) {
                for (int l = ni - 1; l >= 0; l--) {
                    int at = (i * no + j) * ni + l;
                    if (i + 1 < rows.length) {
                        seconds[at] = Math.min(seconds[at], seconds[((i + 1) * no + j) * ni + l]);
                    }
                    if (j + 1 < no) {
                        seconds[at] = Math.min(seconds[at], seconds[(i * no + j + 1) * ni + l]);
                    }
                    if (l + 1 < ni) {
                        seconds[at] = Math.min(seconds[at], seconds[at + 1]);
                    }
                }
            }
        }
        return new ProductGrid(rows, OUTS, INS, seconds);
    }

    /** Whether shape {@code (i, j, l)} took more than {@value #SETTLED} longer than a shape one step larger. */
    private static boolean slowerThanLarger(double[] seconds, int rows, int i, int j, int l) {
        int no = OUTS.length;
        int ni = INS.length;
        double t = seconds[(i * no + j) * ni + l] * (1 - SETTLED);
        return (i + 1 < rows && t > seconds[((i + 1) * no + j) * ni + l])
                || (j + 1 < no && t > seconds[(i * no + j + 1) * ni + l])
                || (l + 1 < ni && t > seconds[(i * no + j) * ni + l + 1]);
    }

    /**
     * Runs every kernel on small shapes (every code path: the streaming and packed products, their tails; the
     * element-wise kernels on their serial and parallel paths) until the compiler is done with them ({@link #untilQuiet}).
     */
    private void warm() {
        List<Parameter> warmParams = List.of(new Parameter("a", new long[] {4096}, new float[4096]),
                new Parameter("b", new long[] {64}, new float[64]));
        AdamW warmAdam = new AdamW(AdamW.Config.defaults());
        untilQuiet(() -> {
            for (int m : ROWS) {
                for (int[] s : WARM_SHAPES) {
                    if (m * OUTS[s[0]] * INS[s[1]] <= WARM_MAX) {
                        MatMul.matmulTransposed(x, m, weights[s[0]][s[1]], y);
                        LinearBackward.inputGrad(x, m, weights[s[0]][s[1]], y);
                        LinearBackward.weightGrad(x, y, m, OUTS[s[0]], INS[s[1]], grad);
                    }
                }
            }
            for (int m : ATTENTION_ROWS) {
                MatMulNN.matmul(x, 0, m, INS[1], w, 0, OUTS[0], y, 0);
                MatMulNN.matmul(x, 0, m, INS[0], w, 0, OUTS[OUTS.length - 1], y, 0);
            }
            normForward(true);
            normBackward(true);
            rope(true);
            softmax(true);
            silu(true);
            add(true);
            GradClip.clipGlobalNorm(warmParams, 1.0);
            warmAdam.step(warmParams, 1e-4);
        }, MIN_WARM_ROUNDS, MIN_WARM_SECONDS);
    }

    /**
     * Runs {@code round} again and again until the just-in-time compiler has spent less than {@value #QUIET_MILLIS} ms
     * in the last {@value #QUIET_WINDOW_SECONDS} s, after at least {@code minRounds} rounds and {@code minSeconds}, and
     * at most {@value #MAX_WARM_SECONDS} s (as long, where the JVM does not report its compilation time). A fresh JVM's first
     * calls run interpreted or half-compiled, many times slower, and the compiler's tiers finish one after another.
     */
    static void untilQuiet(Runnable round, int minRounds, double minSeconds) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean watched = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        long windowStart = start;
        long compiledAtWindow = watched ? jit.getTotalCompilationTime() : 0;
        int rounds = 0;
        while (System.nanoTime() - start < MAX_WARM_SECONDS * 1e9) {
            round.run();
            rounds++;
            long now = System.nanoTime();
            if (!watched || now - windowStart < QUIET_WINDOW_SECONDS * 1e9) {
                continue;
            }
            long compiled = jit.getTotalCompilationTime();
            if (rounds >= minRounds && now - start >= minSeconds * 1e9 && compiled - compiledAtWindow < QUIET_MILLIS) {
                return;
            }
            compiledAtWindow = compiled;
            windowStart = now;
        }
    }

    /**
     * The best seconds of the float32 product {@code [m, k]·[k, n]} ({@code tensor.MatMul}) once the compiler is done
     * with it.
     */
    static double headlineSeconds(int m, int n, int k) {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] a = new float[m * k];
        float[] b = new float[n * k];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rnd.nextDouble(-1, 1);
        }
        float[] out = new float[m * n];
        WeightMatrix weight = WeightMatrix.of(b, n, k);
        Runnable call = () -> MatMul.matmulTransposed(a, m, weight, out);
        untilQuiet(call, 3, 0);
        return best(call);
    }

    /**
     * The best time of {@code call} in seconds: tries of at least {@value #TRY_NANOS} ns (the call repeated), at least
     * {@value #TRIES}, until two tries in a row improve the best by less than {@value #SETTLED} of it (a call the
     * compiler has not finished with yet gets faster from one try to the next), at most {@value #MAX_TRIES}.
     */
    static double best(Runnable call) {
        return best(call, 0);
    }

    /** {@link #best(Runnable)}, trying for at least {@code minNanos} however soon the tries settle. */
    static double best(Runnable call, long minNanos) {
        double best = Double.POSITIVE_INFINITY;
        int settled = 0;
        long start = System.nanoTime();
        for (int t = 0; t < TRIES || settled < 2 || System.nanoTime() - start < minNanos; t++) {
            if (t >= MAX_TRIES && System.nanoTime() - start >= minNanos) {
                break;
            }
            int reps = Double.isInfinite(best) ? 1 : (int) Math.max(1, Math.min(1_000_000, TRY_NANOS / 1e9 / best));
            long s = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                call.run();
            }
            double time = Math.max(1e-9, (System.nanoTime() - s) / 1e9 / reps);
            settled = time > best * (1 - SETTLED) ? settled + 1 : 0;
            best = Math.min(best, time);
        }
        return best;
    }

    /**
     * Seconds per value of {@code call} on {@code values} values; warming, only runs it once on those and
     * {@value #WARM_CALLS} times on {@value #SMALL} of them (the serial path) and returns 0.
     */
    private static double perValue(boolean warming, int values, java.util.function.IntConsumer call) {
        if (warming) {
            for (int i = 0; i < WARM_CALLS; i++) {
                call.accept(SMALL);
            }
            call.accept(values);
            return 0;
        }
        return best(() -> call.accept(values), SETTLE_NANOS) / values;
    }

    /** RMSNorm's forward over rows of 1024. */
    private double normForward(boolean warming) {
        Norm norm = new Norm(ones(1024), null, 1e-5f);
        float[] rstd = new float[256];
        return perValue(warming, 256 * 1024, v -> norm.forward(x, v / 1024, y, rstd));
    }

    /** RMSNorm's input gradient over rows of 1024. */
    private double normBackward(boolean warming) {
        Norm norm = new Norm(ones(1024), null, 1e-5f);
        float[] rstd = new float[256];
        Arrays.fill(rstd, 1f);
        return perValue(warming, 256 * 1024, v -> norm.backward(x, w, rstd, v / 1024, y));
    }

    /** RoPE on rows of 16 heads of 64, split over the kernel threads as a training pass splits it. */
    private double rope(boolean warming) {
        int width = 16 * 64;
        RotaryEmbedding r = new RotaryEmbedding(64, 10000, null, 256);
        return perValue(warming, 256 * width, v -> Parallel.parallelForRange(v / width, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                r.apply(y, t * width, 16, t);
            }
        }));
    }

    /** A softmax row's maximum and shifted exponentials, on one thread. */
    private double softmax(boolean warming) {
        return perValue(warming, 4096, v -> y[0] = VectorMath.expShiftSum(x, 0, v, VectorMath.max(x, 0, v)));
    }

    private double silu(boolean warming) {
        return perValue(warming, 256 * 1024, v -> Ops.siluMul(x, w, y, 0, v));
    }

    private double add(boolean warming) {
        return perValue(warming, 256 * 1024, v -> Ops.add(x, w, y, v));
    }

    /** Seconds per value of an update: the gradient clipped (a norm above the limit), AdamW's step, zeroed. */
    private double optimizerValue() {
        int size = 1 << 20;
        return update(List.of(new Parameter("p", new long[] {size}, Arrays.copyOf(x, size)))) / size;
    }

    /** Seconds per tensor of an update beyond its values. */
    private double optimizerTensor(double perValue) {
        List<Parameter> params = new ArrayList<>();
        int tensors = 256;
        int size = 64;
        for (int i = 0; i < tensors; i++) {
            params.add(new Parameter("p" + i, new long[] {size}, Arrays.copyOf(x, size)));
        }
        return Math.max(0, update(params) / tensors - size * perValue);
    }

    /**
     * The best seconds of one update of {@code params}, their gradients set above the clipping limit beforehand (the
     * setting timed apart and taken off).
     */
    private static double update(List<Parameter> params) {
        AdamW adam = new AdamW(AdamW.Config.defaults());
        Runnable fill = () -> {
            for (Parameter p : params) {
                Arrays.fill(p.grad(), 0.5f);
            }
        };
        double updated = best(() -> {
            fill.run();
            GradClip.clipGlobalNorm(params, 1.0);
            adam.step(params, 1e-4);
            for (Parameter p : params) {
                p.zeroGrad();
            }
        }, SETTLE_NANOS);
        return Math.max(0, updated - best(fill, SETTLE_NANOS));
    }

    /**
     * A random model (hidden 128, 4 heads of 32, 2 key-value heads, intermediate 256) of some blocks and vocabulary, with
     * what trains, and a sequence of 64 tokens; its training pass run a few hundred times when made.
     */
    private static final class SmallModel {
        static final int VOCAB = 512;
        /** A vocabulary of {@value #CHUNKS} chunks of the frozen head's loss at hidden 128 (2048 rows each). */
        static final int CHUNKED_VOCAB = 8192;
        static final int CHUNKS = 4;
        static final int N = 64;
        /** Tokens with a label in the sequence whose loss is its last few (as an answer's). */
        static final int FEW = 4;
        private static final int ADAPTER_LAYERS = 2;
        private final TrainableLlama model;
        private final TrainedParts parts;
        private final String method;
        private final PackedSequence seq;
        private final PackedSequence few;

        private SmallModel(ModelConfig config, TrainableLlama model, TrainedParts parts, String method, int warm) {
            this.model = model;
            this.parts = parts;
            this.method = method;
            int[] tokens = new int[N];
            int[] positions = new int[N];
            SplittableRandom rnd = new SplittableRandom(3);
            for (int i = 0; i < N; i++) {
                tokens[i] = rnd.nextInt(config.vocabSize());
                positions[i] = i;
            }
            seq = new PackedSequence(tokens, tokens.clone(), positions, new int[N]);
            int[] labels = new int[N];
            java.util.Arrays.fill(labels, dev.tailor.model.CausalLmLoss.IGNORE_INDEX);
            System.arraycopy(tokens, N - FEW, labels, N - FEW, FEW);
            few = new PackedSequence(tokens, labels, positions, new int[N]);
            for (int i = 0; i < warm; i++) {
                model.forwardBackward(i % 2 == 0 ? seq : few, 1f / N, i);
            }
        }

        private static ModelConfig config(int layers, int vocab) {
            return new ModelConfig("llama", 128, 256, layers, 4, 2, 32, 1e-5, 10000, null, vocab, 2 * N, false, false,
                    false, 1, List.of(2));
        }

        /** Every block's linears trained. */
        static SmallModel linears(int layers, int vocab) {
            ModelConfig config = config(layers, vocab);
            Predicate<String> linears = name -> name.contains(".layers.") && name.endsWith("_proj.weight");
            return new SmallModel(config, TrainableLlama.create(config, RandomInit.weights(config, 5), linears),
                    TrainedParts.of(config, linears, null), "partial", WARM_PASSES);
        }

        /** Adapter method {@code name} with its default options, if it can train this small model without a tokenizer. */
        static Optional<SmallModel> adapter(String name) {
            ModelConfig config = config(ADAPTER_LAYERS, VOCAB);
            try {
                TrainingMethod.AdapterTraining a = (TrainingMethod.AdapterTraining) TrainingMethod.of(name, null,
                        Map.of());
                LlamaWeights weights = RandomInit.weights(config, 5);
                Adapter adapter = a.method().create(a.name(), a.options(), new AdapterBase(config, weights, null,
                        "small"), 5);
                AdapterShape shape = a.method().shape(a.name(), a.options(), config, "small");
                return Optional.of(new SmallModel(config, TrainableLlama.create(config, weights, n -> false,
                        adapter.sites()), TrainedParts.of(config, n -> false, shape), name, WARM_PASSES / 2));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }

        /**
         * Its pass timed, less what {@code times} prices it at: over the sequence whose every token has a label, or
         * ({@code answers}) whose last {@value #FEW} only.
         */
        double residual(KernelTimes times, boolean answers) {
            long[] generation = {WARM_PASSES};
            PackedSequence s = answers ? few : seq;
            double measured = best(() -> model.forwardBackward(s, 1f / N, generation[0]++), SETTLE_NANOS);
            return measured - PassTime.perSequence(parts, method, N, answers ? FEW : N - 1, false, times);
        }
    }

    private float[] random(int size) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }

    private static float[] ones(int d) {
        float[] a = new float[d];
        Arrays.fill(a, 1f);
        return a;
    }
}
