package dev.tailor.adapt.lora;

import dev.tailor.model.site.LinearHook;
import dev.tailor.model.site.LinearOp;
import dev.tailor.model.site.OutputStage;
import dev.tailor.adapt.MergeableHook;
import dev.tailor.model.site.TrainingPass;
import dev.tailor.tensor.MatMulNN;
import dev.tailor.tensor.NarrowMatMul;
import dev.tailor.tensor.Parameter;
import dev.tailor.tensor.Scratch;
import dev.tailor.tensor.Transpose;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One LoRA pair at a linear site: {@code y = inner(x) + s · (dropout(x)·Aᵀ)·Bᵀ} with A {@code [r, in]}, B
 * {@code [out, r]}; dropout ({@code lora_dropout}) acts only in training (see {@link LoraDropout}).
 * A training backward takes {@code s·h = s·x·Aᵀ} from what its forward saved (an inference backward recomputes it,
 * {@code m·in·r} multiply-adds): {@code dB += s·dYᵀ·h}, {@code dh = s·dY·B}, {@code dA += dhᵀ·x},
 * {@code dX += dh·A}. The products with the rank r as the outer dimension ({@code x·Aᵀ}, {@code dY·B}) are
 * {@link NarrowMatMul}'s dot-product tiles; the others go through the row-streaming
 * {@code X·W} kernel on transposed copies of the small factors, which suits r ≪ in, out better than the tiled GEMM.
 * Both passes transpose B into a per-thread scratch ({@code r·out} values, next to the products' {@code m·r·out}),
 * and the backward's small intermediates are per-thread scratch as well: fresh arrays for them and for a saved
 * {@code Bᵀ} were most of what a LoRA training step left to the collector once attention kept its arrays.
 */
public final class LoraLayer implements MergeableHook {
    /** Per-thread {@code Bᵀ} for {@link #addProduct}. */
    private static final ThreadLocal<float[]> BT_SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    /** Per-thread intermediates of {@link #pairBackward}: {@code (s·h)ᵀ}, then {@code dhᵀ}. */
    private static final ThreadLocal<float[]> TRANSPOSED = ThreadLocal.withInitial(() -> new float[0]);
    /** Per-thread intermediates of {@link #pairBackward}: {@code dBᵀ}, then dA. */
    private static final ThreadLocal<float[]> PRODUCT = ThreadLocal.withInitial(() -> new float[0]);
    /** Per-thread dh of {@link #pairBackward}. */
    private static final ThreadLocal<float[]> DH = ThreadLocal.withInitial(() -> new float[0]);
    private final Parameter a;
    private final Parameter b;
    private final int r;
    private final int in;
    private final int out;
    private final float scale;
    private final double dropout;
    private final long dropoutSeed;
    /** {@code Bᵀ [r, out]} transposed once for inference ({@link #forInference}), or null: transposed per call. */
    private final float[] heldBt;

    /**
     * A LoRA pair over existing parameters, without dropout.
     *
     * @param a     {@code lora_A} {@code [r, in]}
     * @param b     {@code lora_B} {@code [out, r]}
     * @param scale {@code lora_alpha / r}, or {@code lora_alpha / sqrt(r)} for rsLoRA
     */
    public LoraLayer(Parameter a, Parameter b, float scale) {
        this(a, b, scale, 0);
    }

    /**
     * A LoRA pair over existing parameters with dropout {@code p} on its input in training; the masks of each site
     * are seeded by A's name, so they do not depend on the order adapters are built in.
     *
     * @throws IllegalArgumentException when the shapes do not fit or {@code p} is outside [0, 1)
     */
    public LoraLayer(Parameter a, Parameter b, float scale, double dropout) {
        this(a, b, scale, dropout, null);
    }

    private LoraLayer(Parameter a, Parameter b, float scale, double dropout, float[] heldBt) {
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException(a.name() + ": lora_dropout must be in [0, 1), got " + dropout);
        }
        long[] as = a.shape();
        long[] bs = b.shape();
        if (as.length != 2 || bs.length != 2 || as[0] != bs[1]) {
            throw new IllegalArgumentException("LoRA pair " + a.name() + " " + java.util.Arrays.toString(as) + " and "
                    + b.name() + " " + java.util.Arrays.toString(bs) + " do not fit: A is [r, in], B is [out, r]");
        }
        this.a = a;
        this.b = b;
        this.r = (int) as[0];
        this.in = (int) as[1];
        this.out = (int) bs[0];
        this.scale = scale;
        this.dropout = dropout;
        this.dropoutSeed = a.name().hashCode();
        this.heldBt = heldBt;
    }

    /**
     * This pair over the same A and B for inference once they no longer change (a served adapter): {@code Bᵀ}, which
     * every inference forward reads row by row, is transposed here once instead of in each call, the same values, so
     * the outputs keep their bits. It holds {@link #heldBytes} more; a change to B afterwards is not seen by its
     * inference forward, so it is not for training.
     */
    public LoraLayer forInference() {
        return heldBt != null ? this : new LoraLayer(a, b, scale, dropout, Arrays.copyOf(transposedB(), r * out));
    }

    /** Bytes this pair holds beside A and B: {@code Bᵀ} when it is {@link #forInference}, else 0. */
    public long heldBytes() {
        return heldBt == null ? 0 : (long) Float.BYTES * heldBt.length;
    }

    /**
     * A fresh pair with PEFT's default initialisation: A Kaiming-uniform ({@code a = sqrt(5)}, so
     * {@code U(−1/sqrt(in), 1/sqrt(in))}), B zero, so the adapter starts as the identity. Parameters are named
     * as PEFT saves them: {@code base_model.model.<module>.lora_A.weight} / {@code lora_B.weight}.
     */
    public static LoraLayer create(String module, int out, int in, int r, double alpha, boolean rslora,
                                     SplittableRandom rnd) {
        return create(module, out, in, r, alpha, rslora, LoraInit.KAIMING_UNIFORM, 0, rnd);
    }

    /**
     * A fresh pair initialised as {@code init} says (PEFT's {@code reset_lora_parameters}: Kaiming-uniform A, or
     * Gaussian A with σ = 1/r; B zero either way), with dropout {@code dropout} in training.
     */
    public static LoraLayer create(String module, int out, int in, int r, double alpha, boolean rslora,
                                     LoraInit init, double dropout, SplittableRandom rnd) {
        float[] a = new float[Math.multiplyExact(r, in)];
        int bSize = Math.multiplyExact(out, r);
        switch (init) {
            case KAIMING_UNIFORM -> {
                double bound = 1.0 / Math.sqrt(in);
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) rnd.nextDouble(-bound, bound);
                }
            }
            case GAUSSIAN -> {
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (rnd.nextGaussian() / r);
                }
            }
        }
        String prefix = "base_model.model." + module;
        return new LoraLayer(new Parameter(prefix + ".lora_A.weight", new long[] {r, in}, a),
                new Parameter(prefix + ".lora_B.weight", new long[] {out, r}, new float[bSize]),
                (float) (rslora ? alpha / Math.sqrt(r) : alpha / r), dropout);
    }

    /** Input features of the linear. */
    public int in() {
        return in;
    }

    /** Output features of the linear. */
    public int out() {
        return out;
    }

    /** Rank r. */
    public int rank() {
        return r;
    }

    /** The scaling s. */
    public float scale() {
        return scale;
    }

    /** The dropout probability on the input in training. */
    public double dropout() {
        return dropout;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(a, b);
    }

    @Override
    public void checkFits(String module, int linearOut, int linearIn) {
        if (linearOut != out || linearIn != in) {
            throw new IllegalArgumentException(module + ": LoRA pair is for a [" + out + ", " + in
                    + "] linear but the model's is [" + linearOut + ", " + linearIn + "]");
        }
    }

    @Override
    public void forward(LinearOp inner, float[] x, int m, float[] y) {
        inner.forward(x, m, y);
        addProduct(x, m, y);
    }

    @Override
    public OutputStage outputStage() {
        return (inner, x, m, y) -> addProduct(x, m, y);
    }

    @Override
    public LinearHook.Saved forward(LinearOp inner, float[] x, int m, float[] y, TrainingPass pass) {
        inner.forward(x, m, y);
        Saved saved = new Saved(scaledHidden(dropped(x, m, pass), m));
        addScaledHidden(saved.hs(), m, transposedB(), y);
        return saved;
    }

    @Override
    public void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx) {
        inner.backward(dy, x, m, dx);
        pairBackward(dy, x, m, dx);
    }

    @Override
    public void backward(LinearOp inner, float[] dy, float[] x, int m, float[] dx, TrainingPass pass,
                         LinearHook.Saved saved) {
        inner.backward(dy, x, m, dx);
        Saved s = (Saved) saved;
        if (dropout == 0) {
            pairBackward(dy, x, s.hs(), m, dx);
            return;
        }
        float[] dxd = dx == null ? null : new float[m * in];
        pairBackward(dy, dropped(x, m, pass), s.hs(), m, dxd);
        if (dx != null) {
            float[] part = dropped(dxd, m, pass);
            for (int i = 0; i < part.length; i++) {
                dx[i] += part[i];
            }
        }
    }

    /**
     * What a training forward saves for its backward.
     *
     * @param hs the scaled hidden matrix {@code s·x̃·Aᵀ [m, r]} of the dropped-out input {@code x̃}
     */
    private record Saved(float[] hs) implements LinearHook.Saved {
    }

    /** The adapter's input in training pass {@code pass}: {@code x} itself without dropout, else a masked copy. */
    float[] dropped(float[] x, int m, TrainingPass pass) {
        return dropout == 0 ? x : LoraDropout.apply(x, m, in, dropout, dropoutSeed, pass.generation());
    }

    /**
     * {@code y += s·(x·Aᵀ)·Bᵀ} for {@code x [m, in]}: the scale goes on the small hidden matrix. {@code Bᵀ} is the
     * one held {@link #forInference}, else transposed into a per-thread scratch, not a new array (a served step runs
     * this once per module and adapter: those arrays were 40% of a 16-adapter server's allocations, and the
     * transpositions 10% of the CPU time of a 16-adapter {@code bench decode-batch} step).
     */
    void addProduct(float[] x, int m, float[] y) {
        addScaledHidden(scaledHidden(x, m), m, heldBt != null ? heldBt : transposedB(), y);
    }

    /** {@code y += hs·Bᵀ} for the scaled hidden matrix {@code hs = s·x·Aᵀ [m, r]} and {@code bt = Bᵀ [r, out]}. */
    private void addScaledHidden(float[] hs, int m, float[] bt, float[] y) {
        MatMulNN.matmulAdd(hs, 0, m, r, bt, 0, out, y, 0);
    }

    /** {@code Bᵀ} {@code [r, out]}, the layout both products with B read row by row, in this thread's scratch. */
    private float[] transposedB() {
        float[] bt = Scratch.floats(BT_SCRATCH, out * r);
        transposeInto(b.data(), out, r, bt);
        return bt;
    }

    /**
     * The backward of {@link #addProduct} for the gradient {@code dy [m, out]} of its output: accumulates the
     * gradients of A and B and, when {@code dx} is not null, adds the input gradient into it. The scale goes on the
     * small matrices ({@code hᵀ} and {@code dY·B}), so dY is only read.
     */
    void pairBackward(float[] dy, float[] x, int m, float[] dx) {
        pairBackward(dy, x, scaledHidden(x, m), m, dx);
    }

    /** {@link #pairBackward} with the forward's scaled hidden matrix {@code hs = s·x·Aᵀ} at hand. */
    private void pairBackward(float[] dy, float[] x, float[] hs, int m, float[] dx) {
        // dB += s·dYᵀ·h, computed as (s·hᵀ·dY)ᵀ
        float[] hsT = Scratch.floats(TRANSPOSED, r * m);
        transposeInto(hs, m, r, hsT);
        float[] dBt = Scratch.floats(PRODUCT, r * out);
        MatMulNN.matmul(hsT, 0, r, m, dy, 0, out, dBt, 0);
        addTransposed(dBt, r, out, b.grad());
        // dh = dY·(s·B)  [m, r]
        float[] dh = Scratch.floats(DH, m * r);
        NarrowMatMul.matmulTransposed(dy, 0, m, out, transposedB(), 0, r, dh, 0);
        for (int i = 0; i < m * r; i++) {
            dh[i] *= scale;
        }
        // dA += dhᵀ·X
        float[] dhT = Scratch.floats(TRANSPOSED, r * m);
        transposeInto(dh, m, r, dhT);
        float[] dA = Scratch.floats(PRODUCT, r * in);
        MatMulNN.matmul(dhT, 0, r, m, x, 0, in, dA, 0);
        float[] ga = a.grad();
        for (int i = 0; i < r * in; i++) {
            ga[i] += dA[i];
        }
        if (dx != null) {
            MatMulNN.matmulAdd(dh, 0, m, r, a.data(), 0, in, dx, 0);
        }
    }

    @Override
    public void mergeInto(float[] weight, float[] bias) {
        float[] d = delta();
        for (int i = 0; i < d.length; i++) {
            weight[i] += d[i];
        }
    }

    @Override
    public void unmergeFrom(float[] weight, float[] bias) {
        float[] d = delta();
        for (int i = 0; i < d.length; i++) {
            weight[i] -= d[i];
        }
    }

    /** {@code ΔW = s·B·A} {@code [out, in]}. */
    public float[] delta() {
        float[] d = new float[out * in];
        MatMulNN.matmul(b.data(), 0, out, r, a.data(), 0, in, d, 0);
        for (int i = 0; i < d.length; i++) {
            d[i] *= scale;
        }
        return d;
    }

    /** {@code s·X·Aᵀ} {@code [m, r]}. */
    private float[] scaledHidden(float[] x, int m) {
        float[] h = hidden(x, m);
        for (int i = 0; i < h.length; i++) {
            h[i] *= scale;
        }
        return h;
    }

    /** {@code h = X·Aᵀ} {@code [m, r]}. */
    private float[] hidden(float[] x, int m) {
        float[] h = new float[m * r];
        NarrowMatMul.matmulTransposed(x, 0, m, in, a.data(), 0, r, h, 0);
        return h;
    }

    /** {@code t[j·rows + i] = src[i·cols + j]}: {@code src [rows, cols]} transposed into {@code t}. */
    private static void transposeInto(float[] src, int rows, int cols, float[] t) {
        Transpose.transpose(src, 0, cols, rows, cols, t, 0, rows, false);
    }

    /** {@code dst[j·rows + i] += src[i·cols + j]}. */
    private static void addTransposed(float[] src, int rows, int cols, float[] dst) {
        Transpose.transpose(src, 0, cols, rows, cols, dst, 0, rows, true);
    }
}
