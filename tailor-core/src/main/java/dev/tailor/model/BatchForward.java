package dev.tailor.model;

import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.SublayerHook;
import dev.tailor.model.site.SublayerSite;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.WeightMatrix;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The forward pass of several sequences at once, each with its own KV cache and adapter view of one base: their rows
 * are stacked into one matrix, so every base product reads its weight once for all of them. Rows are grouped by view;
 * at each linear site the base product runs once over the rows of every group whose adapters there only act on its
 * output ({@link dev.tailor.model.site.OutputStage}, e.g. LoRA), then each group applies its adapters' stages to its
 * own rows; a group whose adapter changes the base's input (IA³ on a feed-forward input) runs its own product on its
 * rows. Attention and the sublayer adapters run per sequence and per group. Every operation on a row reads that row
 * (and its own sequence's cache) only, so with {@link MatMul#batchInvariant} products a sequence's results do not
 * depend on which other sequences share its batch.
 */
final class BatchForward {
    /** Per-thread copies of one adapter group's input and output rows ({@link #adaptLinear}). */
    private static final ThreadLocal<float[]> GROUP_X = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> GROUP_Y = ThreadLocal.withInitial(() -> new float[0]);
    /**
     * One sequence's rows: {@code x [n, hidden]} (overwritten) after the {@code cache.length()} positions held; on
     * an empty cache the view's virtual tokens go first. {@code virtualRows} of the virtual rows run through the
     * blocks (prompt tuning) are returned in front of the n rows.
     */
    record Part(LlamaModel view, KvCache cache, float[] x, int n, int virtualRows) {
    }

    private final LlamaModel base;
    private final ModelConfig config;
    private final List<Group> groups = new ArrayList<>();
    /** Per sequence, in the order of {@link #groups}: its part, first row, rows, first position and skipped rows. */
    private final Part[] parts;
    private final int[] rowStart;
    private final int[] rows;
    private final int[] start;
    private final int[] skip;
    private final int total;

    /** Rows {@code [row0, row0 + rows)} of the batch, all through {@code view}. */
    private record Group(LlamaModel view, int row0, int rows) {
    }

    private BatchForward(LlamaModel base, List<Part> input) {
        this.base = base;
        this.config = base.config();
        Map<LlamaModel, List<Part>> byView = new IdentityHashMap<>();
        List<LlamaModel> order = new ArrayList<>();
        for (Part p : input) {
            check(p);
            byView.computeIfAbsent(p.view(), v -> {
                order.add(v);
                return new ArrayList<>();
            }).add(p);
        }
        int count = input.size();
        parts = new Part[count];
        rowStart = new int[count];
        rows = new int[count];
        start = new int[count];
        skip = new int[count];
        int i = 0;
        int row = 0;
        for (LlamaModel view : order) {
            int groupRow = row;
            for (Part p : byView.get(view)) {
                parts[i] = p;
                boolean fresh = p.cache().held() == 0 && view.virtualTokens() > 0;
                skip[i] = fresh && view.promptEmbeddings() != null ? view.virtualTokens() : 0;
                start[i] = fresh && view.promptEmbeddings() == null ? view.virtualTokens() : p.cache().held();
                rowStart[i] = row;
                rows[i] = p.n() + skip[i];
                row += rows[i];
                i++;
            }
            groups.add(new Group(view, groupRow, row - groupRow));
        }
        total = row;
    }

    /**
     * Runs the parts and returns, per part in the order given, the hidden states after the final norm of its last
     * {@code virtualRows} virtual rows and its n rows.
     *
     * @throws ContextOverflowException if a cache cannot hold its rows (before any cache changes)
     */
    static float[][] run(LlamaModel base, List<Part> parts) {
        return new BatchForward(base, parts).run(parts);
    }

    private void check(Part p) {
        LlamaModel view = p.view();
        if (view.weights() != base.weights()) {
            throw new IllegalArgumentException("a batch runs views of one base; a sequence's model has other weights");
        }
        KvCache cache = p.cache();
        if (cache.virtualTokens() != view.virtualTokens()) {
            throw new IllegalArgumentException("a KV cache made for " + cache.virtualTokens() + " virtual tokens "
                    + "cannot serve a model with " + view.virtualTokens() + "; make it with this model's newCache");
        }
        if (cache.length() + p.n() > cache.capacity()) {
            throw new ContextOverflowException(cache.length() + p.n(), cache.capacity());
        }
        if (p.virtualRows() > 0 && (view.promptEmbeddings() == null || cache.held() != 0)) {
            throw new IllegalStateException("only prompt tuning's virtual rows, on an empty cache, run through the "
                    + "blocks");
        }
    }

    private float[][] run(List<Part> input) {
        int d = config.hiddenSize();
        float[] x = new float[total * d];
        for (int i = 0; i < parts.length; i++) {
            Part p = parts[i];
            int at = rowStart[i] * d;
            if (skip[i] > 0) {
                System.arraycopy(p.view().promptEmbeddings().data(), 0, x, at, skip[i] * d);
            }
            System.arraycopy(p.x(), 0, x, at + skip[i] * d, p.n() * d);
            if (start[i] > 0 && p.cache().held() == 0) {
                p.view().storePrefix(p.cache());
            }
        }
        Scratch s = Scratch.of(config, total);
        for (int l = 0; l < config.numLayers(); l++) {
            block(l, base.weights().layers().get(l), x, s);
        }
        Map<Part, float[]> out = new IdentityHashMap<>();
        for (int i = 0; i < parts.length; i++) {
            Part p = parts[i];
            p.cache().advance(rows[i]);
            int keep = p.virtualRows() + p.n();
            float[] h = new float[keep * d];
            int from = rowStart[i] + skip[i] - p.virtualRows();
            for (int t = 0; t < keep; t++) {
                Ops.rmsNorm(x, (from + t) * d, base.weights().finalNorm(), (float) config.rmsNormEps(), h, t * d, d);
            }
            out.put(p, h);
        }
        float[][] result = new float[input.size()][];
        for (int i = 0; i < result.length; i++) {
            result[i] = out.get(input.get(i));
        }
        return result;
    }

    /**
     * One decoder layer over all rows. Its per-row loops are methods of their own: a loop here would make the JIT
     * compile this whole layer (everything inlined into it) once per hot loop on the stack before compiling it
     * normally, and those compilations take the cores from the kernels for several forward passes.
     */
    private void block(int layer, LayerWeights w, float[] x, Scratch s) {
        float eps = (float) config.rmsNormEps();
        normRows(x, w.inputNorm(), eps, s.norm);
        project(layer, new LinearSite[] {LinearSite.Q_PROJ, LinearSite.K_PROJ, LinearSite.V_PROJ}, w, s.norm,
                new float[][] {s.q, s.k, s.v});
        KvCache[] caches = new KvCache[parts.length];
        for (int i = 0; i < parts.length; i++) {
            caches[i] = parts[i].cache();
        }
        // each part's own rows and cache: its K column writes miss cache lines, so the parts are shared out
        Parallel.parallelFor(parts.length, i -> {
            positionRows(i, w, eps, s);
            caches[i].store(layer, start[i], rows[i], s.k, s.v, rowStart[i]);
        });
        Attention.causal(config, s.q, caches, rowStart, start, rows, layer, s.attn);
        project(layer, LinearSite.O_PROJ, w, s.attn, s.out);
        adaptSublayer(layer, SublayerSite.SELF_ATTN, s.out);
        Ops.add(x, s.out, x, total * config.hiddenSize());

        normRows(x, w.postAttnNorm(), eps, s.norm);
        project(layer, new LinearSite[] {LinearSite.GATE_PROJ, LinearSite.UP_PROJ}, w, s.norm,
                new float[][] {s.gate, s.up});
        Ops.siluMul(s.gate, s.up, s.gate, 0, total * config.intermediateSize());
        project(layer, LinearSite.DOWN_PROJ, w, s.gate, s.out);
        adaptSublayer(layer, SublayerSite.MLP, s.out);
        Ops.add(x, s.out, x, total * config.hiddenSize());
    }

    /** {@code out}'s rows: RMS norm of each of {@code x}'s {@link #total} rows, scaled by {@code weight}. */
    private void normRows(float[] x, float[] weight, float eps, float[] out) {
        int d = config.hiddenSize();
        for (int t = 0; t < total; t++) {
            Ops.rmsNorm(x, t * d, weight, eps, out, t * d, d);
        }
    }

    /** Part {@code i}'s query and key rows normed per head (where the layer has QK norms) and rotated in place. */
    private void positionRows(int i, LayerWeights w, float eps, Scratch s) {
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int hd = config.headDim();
        RotaryEmbedding rope = base.rope();
        for (int r = 0; r < rows[i]; r++) {
            int t = rowStart[i] + r;
            if (w.qNorm() != null) {
                for (int h = 0; h < config.numHeads(); h++) {
                    Ops.rmsNorm(s.q, t * qDim + h * hd, w.qNorm(), eps, s.q, t * qDim + h * hd, hd);
                }
                for (int h = 0; h < config.numKvHeads(); h++) {
                    Ops.rmsNorm(s.k, t * kvDim + h * hd, w.kNorm(), eps, s.k, t * kvDim + h * hd, hd);
                }
            }
            rope.apply(s.q, t * qDim, config.numHeads(), start[i] + r);
            rope.apply(s.k, t * kvDim, config.numKvHeads(), start[i] + r);
        }
    }

    /** {@link #project(int, LinearSite[], LayerWeights, float[], float[][])} at one site. */
    private void project(int layer, LinearSite site, LayerWeights lw, float[] x, float[] y) {
        project(layer, new LinearSite[] {site}, lw, x, new float[][] {y});
    }

    /**
     * {@code y_i = x·W_iᵀ (+ b_i)} at each of {@code sites} of {@code layer} for every row (sites whose weights take
     * the same input), each group through its adapters: the base products once over each run of groups that share
     * them, all sites' together (one parallel loop), then each group's stages or own product per site. Where a group
     * shares the base at some of the sites but not at others, the sites run one by one.
     */
    private void project(int layer, LinearSite[] sites, LayerWeights lw, float[] x, float[][] ys) {
        String[] modules = new String[sites.length];
        WeightMatrix[] ws = new WeightMatrix[sites.length];
        float[][] biases = new float[sites.length][];
        for (int i = 0; i < sites.length; i++) {
            modules[i] = sites[i].module(layer);
            ws[i] = lw.linear(sites[i]);
            biases[i] = lw.bias(sites[i]);
        }
        if (sites.length > 1 && !sharedAlike(modules)) {
            for (int i = 0; i < sites.length; i++) {
                project(layer, sites[i], lw, x, ys[i]);
            }
            return;
        }
        int run = -1;
        for (int g = 0; g <= groups.size(); g++) {
            boolean shares = g < groups.size() && groups.get(g).view().sharesBase(modules[0]);
            if (shares && run < 0) {
                run = g;
            } else if (!shares && run >= 0) {
                int row0 = groups.get(run).row0();
                Group last = groups.get(g - 1);
                baseProducts(x, row0, last.row0() + last.rows() - row0, ws, biases, ys);
                run = -1;
            }
        }
        // every site's groups side by side: a served step's q, k and v (or gate and up) adapters on both threads
        List<Runnable> adaptations = new ArrayList<>();
        for (int i = 0; i < sites.length; i++) {
            String module = modules[i];
            int in = ws[i].cols();
            int out = ws[i].rows();
            float[] y = ys[i];
            for (Group g : groups) {
                if (g.view().linearOp(module) != null) {
                    adaptations.add(() -> adaptLinear(g, module, x, in, y, out));
                }
            }
        }
        eachGroup(adaptations, Runnable::run);
    }

    /**
     * The rows of group {@code g} at {@code module}: its stages over the base product, or its own product. A group's
     * rows are copied to this thread's scratch and back, not to new arrays: a served step over 16 one-row adapter
     * groups allocated ~12 MB for them, a young collection every ~8 steps.
     */
    private void adaptLinear(Group g, String module, float[] x, int in, float[] y, int out) {
        // a whole batch's rows go as they are: stages and linear ops take the first m rows of longer arrays
        boolean whole = g.rows() == total;
        float[] xs = whole ? x : rowsIn(GROUP_X, x, g.row0(), g.rows(), in);
        float[] ys = whole ? y : rowsIn(GROUP_Y, y, g.row0(), g.rows(), out);
        List<LlamaModel.StagedHook> stages = g.view().outputStages(module);
        if (stages != null) {
            for (LlamaModel.StagedHook s : stages) {
                s.stage().apply(s.inner(), xs, g.rows(), ys);
            }
        } else {
            g.view().linearOp(module).forward(xs, g.rows(), ys);
        }
        if (!whole) {
            System.arraycopy(ys, 0, y, g.row0() * out, g.rows() * out);
        }
    }

    /** Rows {@code [row0, row0 + rows)} of {@code a} copied to the front of this thread's array in {@code local}. */
    private static float[] rowsIn(ThreadLocal<float[]> local, float[] a, int row0, int rows, int width) {
        float[] s = dev.tailor.tensor.Scratch.floats(local, rows * width);
        System.arraycopy(a, row0 * width, s, 0, rows * width);
        return s;
    }

    /**
     * Runs {@code work} for each group (or a group at a site): one with the kernels' threads inside it; several side
     * by side, one per task (their outputs are disjoint, and each one's work is the same on whichever thread it runs).
     */
    private static <T> void eachGroup(List<T> list, Consumer<T> work) {
        if (list.size() == 1) {
            work.accept(list.getFirst());
        } else if (!list.isEmpty()) {
            Parallel.parallelFor(list.size(), i -> work.accept(list.get(i)));
        }
    }

    /** Whether every group shares the base at all of {@code modules} or at none of them. */
    private boolean sharedAlike(String[] modules) {
        for (Group g : groups) {
            for (String module : modules) {
                if (g.view().sharesBase(module) != g.view().sharesBase(modules[0])) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Rows {@code [row0, row0 + m)} of {@code y_i = x·W_iᵀ (+ b_i)} for every weight, the products in one call. */
    private static void baseProducts(float[] x, int row0, int m, WeightMatrix[] ws, float[][] biases, float[][] ys) {
        int[] yOffs = new int[ws.length];
        for (int i = 0; i < ws.length; i++) {
            yOffs[i] = row0 * ws[i].rows();
        }
        MatMul.matmulTransposedEach(x, row0 * ws[0].cols(), m, ws, ys, yOffs);
        for (int i = 0; i < ws.length; i++) {
            float[] bias = biases[i];
            int out = ws[i].rows();
            if (bias != null) {
                for (int r = row0; r < row0 + m; r++) {
                    for (int j = 0; j < out; j++) {
                        ys[i][r * out + j] += bias[j];
                    }
                }
            }
        }
    }

    /** Applies each group's sublayer adapters at the site (if any) to its rows of {@code h} in place. */
    private void adaptSublayer(int layer, SublayerSite site, float[] h) {
        int d = config.hiddenSize();
        String module = site.module(layer);
        List<Group> adapted = new ArrayList<>();
        for (Group g : groups) {
            if (g.view().sublayerHooks(module) != null) {
                adapted.add(g);
            }
        }
        eachGroup(adapted, g -> {
            float[] rowsIn = slice(h, g.row0(), g.rows(), d);
            float[] rowsOut = new float[rowsIn.length];
            for (SublayerHook a : g.view().sublayerHooks(module)) {
                a.forward(rowsIn, g.rows(), rowsOut);
                System.arraycopy(rowsOut, 0, rowsIn, 0, rowsOut.length);
            }
            System.arraycopy(rowsIn, 0, h, g.row0() * d, rowsIn.length);
        });
    }

    private static float[] slice(float[] a, int row0, int rows, int width) {
        float[] s = new float[rows * width];
        System.arraycopy(a, row0 * width, s, 0, s.length);
        return s;
    }

    /**
     * Work arrays of a forward call, reused across the layers and, on one thread, across calls: rows {@code [0, n)}
     * are the call's, the arrays may be longer. Fresh arrays for every call, alive when the young generation was
     * collected, were promoted to the old one and piled up there until a full collection (a 1,024-token prompt on the
     * reference shape took the process from 150 to 500 MiB).
     */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> CURRENT = new ThreadLocal<>();
        final int capacity;
        final float[] norm;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] attn;
        final float[] out;
        final float[] gate;
        final float[] up;

        /** This thread's arrays when they fit n rows of {@code c}'s widths, else new ones, kept for the next call. */
        static Scratch of(ModelConfig c, int n) {
            Scratch s = CURRENT.get();
            if (s == null || !s.fits(c, n)) {
                s = new Scratch(c, n);
                CURRENT.set(s);
            }
            return s;
        }

        /** Whether the arrays hold n rows of {@code c}'s widths (v, attn, out and up follow from these). */
        private boolean fits(ModelConfig c, int n) {
            return capacity >= n && norm.length == capacity * c.hiddenSize() && q.length == capacity * c.qDim()
                    && k.length == capacity * c.kvDim() && gate.length == capacity * c.intermediateSize();
        }

        private Scratch(ModelConfig c, int n) {
            capacity = n;
            norm = new float[n * c.hiddenSize()];
            q = new float[n * c.qDim()];
            k = new float[n * c.kvDim()];
            v = new float[n * c.kvDim()];
            attn = new float[n * c.qDim()];
            out = new float[n * c.hiddenSize()];
            gate = new float[n * c.intermediateSize()];
            up = new float[n * c.intermediateSize()];
        }
    }
}
