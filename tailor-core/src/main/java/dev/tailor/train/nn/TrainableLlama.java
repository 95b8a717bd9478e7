package dev.tailor.train.nn;

import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.site.LinearHook;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.PrefixEncoder;
import dev.tailor.model.site.Site;
import dev.tailor.model.site.SublayerSite;
import dev.tailor.model.VirtualTokens;
import dev.tailor.model.site.TrainingPass;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LayerWeights;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.ModelConfig;
import dev.tailor.model.RotaryEmbedding;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;

/**
 * A Llama-family model set up for training: each base tensor is frozen (read in place) or trainable (a float32
 * {@link Parameter}). {@link #forwardBackward} runs one packed sequence forward, computes the causal-LM loss and
 * accumulates the gradients of the trainable tensors; the backward stops at the lowest block with a trainable
 * tensor (nothing below it is computed), and with gradient checkpointing each block's activations are recomputed
 * during backward instead of being kept.
 *
 * <p>With prompt or prefix tuning every segment of a packed sequence gets the P virtual tokens in front (its real
 * tokens at positions {@code P …}); the logits are those of the real tokens. The loss is PEFT's: prompt tuning
 * prefixes the labels with P ignored ones, so the last virtual token of a segment predicts the segment's first label
 * (counted unless ignored, and its gradient reaches the prompt embeddings through that row too); prefix tuning
 * leaves the labels as they are.
 */
public final class TrainableLlama {
    private final ModelConfig config;
    private final WeightMatrix embed;
    private final Parameter embedParam;
    private final List<Block> blocks;
    private final Norm finalNorm;
    private final Linear lmHead;
    private final List<Parameter> parameters;
    private final RotaryEmbedding rope;
    private final SegmentAttention attention;
    private final int stopLayer;
    private final boolean sublayerAdapters;
    /** Prompt tuning's embeddings {@code [P, hidden]}, or null. */
    private final Parameter promptEmbeddings;
    /** Prefix tuning's keys and values {@code [P, layers·2·kvDim]}, or null. */
    private final Parameter prefix;
    /** What writes {@link #prefix} before each pass (prefix projection), or null when the prefix is trained. */
    private final PrefixEncoder prefixEncoder;
    private boolean checkpointing;
    private Workspace workspace;
    /** The activations of the forward-only passes ({@link #logits}, {@link #loss}), grown to the longest. */
    private BlockActivations forwardOnly;
    private int forwardOnlyRows;

    private TrainableLlama(ModelConfig config, WeightMatrix embed, Parameter embedParam, List<Block> blocks,
                           Norm finalNorm, Linear lmHead, List<Parameter> parameters, boolean sublayerAdapters,
                           Parameter promptEmbeddings, Parameter prefix, PrefixEncoder prefixEncoder) {
        this.config = config;
        this.embed = embed;
        this.embedParam = embedParam;
        this.blocks = blocks;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.parameters = Collections.unmodifiableList(parameters);
        this.sublayerAdapters = sublayerAdapters;
        this.promptEmbeddings = promptEmbeddings;
        this.prefix = prefix;
        this.prefixEncoder = prefixEncoder;
        this.rope = new RotaryEmbedding(config.headDim(), config.ropeTheta(), config.ropeScaling(),
                config.maxPositions());
        this.attention = new SegmentAttention(config.numHeads(), config.numKvHeads(), config.headDim());
        int lowest = blocks.size();
        for (int l = blocks.size() - 1; l >= 0; l--) {
            if (blocks.get(l).trainable()) {
                lowest = l;
            }
        }
        this.stopLayer = embedParam != null || promptEmbeddings != null || prefix != null ? 0 : lowest;
    }

    /**
     * Sets up {@code base} for training; tensors whose Hugging Face name satisfies {@code trainable} become
     * float32 parameters (copied once; a heap F32 tensor is adopted without a copy), the rest stay frozen in place.
     * With tied embeddings, {@code lm_head} shares the embedding's parameter.
     */
    public static TrainableLlama create(ModelConfig config, LlamaWeights base, Predicate<String> trainable) {
        return create(config, base, trainable, AdapterSites.NONE);
    }

    /**
     * Like {@link #create(ModelConfig, LlamaWeights, Predicate)}, with an adapter: its parameters follow the base's
     * trainable tensors in {@link #parameters()} (each once, in model order).
     *
     * @throws IllegalArgumentException naming the site when a piece of the adapter does not fit the model
     */
    public static TrainableLlama create(ModelConfig config, LlamaWeights base, Predicate<String> trainable,
                                        AdapterSites adapter) {
        checkSites(config, adapter);
        List<Parameter> params = new ArrayList<>();
        ParameterBinder b = new ParameterBinder(trainable, params, adapter);
        float eps = (float) config.rmsNormEps();
        Parameter embedParam = b.matrixParam("model.embed_tokens.weight", base.embed());
        WeightMatrix embed = embedParam != null ? ParameterBinder.view(embedParam, base.embed()) : base.embed();
        b.virtualTokens(adapter);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            LayerWeights w = base.layers().get(i);
            String p = Site.block(i) + ".";
            String a = SublayerSite.SELF_ATTN.module(i) + ".";
            blocks.add(new Block(
                    b.norm(p + "input_layernorm.weight", w.inputNorm(), eps),
                    b.linear(LinearSite.Q_PROJ.module(i), w.q(), w.qBias()),
                    b.linear(LinearSite.K_PROJ.module(i), w.k(), w.kBias()),
                    b.linear(LinearSite.V_PROJ.module(i), w.v(), w.vBias()),
                    b.linear(LinearSite.O_PROJ.module(i), w.o(), null),
                    w.qNorm() == null ? null : b.norm(a + "q_norm.weight", w.qNorm(), eps),
                    w.kNorm() == null ? null : b.norm(a + "k_norm.weight", w.kNorm(), eps),
                    b.norm(p + "post_attention_layernorm.weight", w.postAttnNorm(), eps),
                    b.linear(LinearSite.GATE_PROJ.module(i), w.gate(), null),
                    b.linear(LinearSite.UP_PROJ.module(i), w.up(), null),
                    b.linear(LinearSite.DOWN_PROJ.module(i), w.down(), null),
                    b.sublayer(SublayerSite.SELF_ATTN.module(i), config.hiddenSize()),
                    b.sublayer(SublayerSite.MLP.module(i), config.hiddenSize())));
        }
        Norm finalNorm = b.norm("model.norm.weight", base.finalNorm(), eps);
        Linear lmHead = base.lmHead() == base.embed()
                ? new Linear(embed, embedParam, null, null, null)
                : b.linear("lm_head", base.lmHead(), null);
        return new TrainableLlama(config, embed, embedParam, List.copyOf(blocks), finalNorm, lmHead, params,
                !adapter.sublayer().isEmpty(), adapter.promptEmbeddings(), adapter.prefix(), adapter.prefixEncoder());
    }

    private static void checkSites(ModelConfig config, AdapterSites adapter) {
        java.util.Set<String> linears = java.util.Set.copyOf(Site.modules(config.numLayers(), LinearSite.allLinear()));
        java.util.Set<String> sublayers = java.util.Set.copyOf(Site.modules(config.numLayers(),
                List.of(SublayerSite.values())));
        for (String module : adapter.linear().keySet()) {
            if (!linears.contains(module)) {
                throw new IllegalArgumentException("adapter module " + module + " is not a linear of this model ("
                        + config.numLayers() + " layers)");
            }
        }
        for (String site : adapter.sublayer().keySet()) {
            if (!sublayers.contains(site)) {
                throw new IllegalArgumentException("adapter site " + site + " is not a sublayer of this model ("
                        + config.numLayers() + " layers)");
            }
        }
        VirtualTokens.check(config, adapter.promptEmbeddings(), adapter.prefix());
    }

    /** The architecture. */
    public ModelConfig config() {
        return config;
    }

    /** The trainable tensors, in model order. */
    public List<Parameter> parameters() {
        return parameters;
    }

    /**
     * The current weights as the inference model reads them: trainable tensors are views of the parameters (so a
     * {@link dev.tailor.model.LlamaModel} over them generates with the weights as trained so far), frozen ones the
     * base's. Adapters are not part of them.
     */
    public LlamaWeights asWeights() {
        List<LayerWeights> layers = new ArrayList<>();
        for (Block b : blocks) {
            layers.add(new LayerWeights(b.inputNorm().weight(), b.q().weight(), b.k().weight(), b.v().weight(),
                    b.o().weight(), b.q().bias(), b.k().bias(), b.v().bias(),
                    b.qNorm() == null ? null : b.qNorm().weight(), b.kNorm() == null ? null : b.kNorm().weight(),
                    b.postNorm().weight(), b.gate().weight(), b.up().weight(), b.down().weight()));
        }
        return new LlamaWeights(embed, List.copyOf(layers), finalNorm.weight(), lmHead.weight());
    }

    /** Index of the lowest block the backward reaches ({@code numLayers} when no block is trained). */
    public int stopLayer() {
        return stopLayer;
    }

    /** Recompute each block's activations during backward instead of keeping them (less memory, ~⅓ more compute). */
    public void setGradientCheckpointing(boolean on) {
        this.checkpointing = on;
        this.workspace = null;
    }

    /** The logits {@code [n, vocab]} of one sequence (no gradients). */
    public float[] logits(PackedSequence seq) {
        int n = seq.length();
        VirtualRows virtual = virtualRows(seq);
        float[] x = hidden(seq, virtual);
        return logits(virtual == null ? x : virtual.real(x, config.hiddenSize()), n, new float[n],
                new float[n * config.hiddenSize()], new float[n * config.vocabSize()]);
    }

    /** The last block's output {@code [rows, hidden]} of {@code seq} with its {@code virtual} rows (no gradients). */
    private float[] hidden(PackedSequence seq, VirtualRows virtual) {
        encodePrefix();
        PackedSequence rows = virtual == null ? seq : virtual.rows();
        float[] x = virtual == null ? embed(seq.tokens()) : virtualInput(virtual, seq);
        BlockActivations scratch = forwardScratch(rows.length());
        float[] out = new float[x.length];
        for (Block block : blocks) {
            x = blockForward(block, x, rows, scratch, null, out);
        }
        return x;
    }

    /**
     * Loss of one sequence without gradients (evaluation): logits only for the rows that carry a loss, computed as
     * {@link #forwardBackward} computes them.
     */
    public CausalLmLoss.Total loss(PackedSequence seq) {
        VirtualRows virtual = virtualRows(seq);
        PackedSequence rows = virtual == null ? seq : virtual.rows();
        int m = rows.length();
        int[] lossRows = CrossEntropy.countedRows(rows);
        if (lossRows.length == 0) {
            return new CausalLmLoss.Total(0, 0);
        }
        float[] normed = new float[m * config.hiddenSize()];
        finalNorm.forward(hidden(seq, virtual), m, normed, new float[m]);
        float[] logits = new float[frozenHead() ? 0 : lossRows.length * config.vocabSize()];
        return head(normed, m, lossRows, rows.labels(), 0f, logits, null, false).total();
    }

    /**
     * The number of labels the loss of {@code seq} counts: those predicted by an earlier token of their segment and,
     * with prompt tuning, each segment's first label unless ignored (predicted by the last virtual token).
     */
    public long countedLabels(PackedSequence seq) {
        VirtualRows virtual = virtualRows(seq);
        return CrossEntropy.countedRows(virtual == null ? seq : virtual.rows()).length;
    }

    /** {@link #forwardBackward(PackedSequence, float, long)} as training pass 0. */
    public CausalLmLoss.Total forwardBackward(PackedSequence seq, float lossScale) {
        return forwardBackward(seq, lossScale, 0);
    }

    /**
     * Forward, loss and backward of one sequence; the gradients of all trainable tensors are increased by those of
     * {@code lossScale · Σ NLL} (pass 1/(counted tokens of the whole batch) for a mean). Adapters run in training
     * pass {@code generation} (their dropout masks are a function of it); {@link #logits} and {@link #loss} run
     * them for inference.
     *
     * @return the summed NLL and the number of counted tokens of this sequence
     */
    public CausalLmLoss.Total forwardBackward(PackedSequence seq, float lossScale, long generation) {
        return trainingPass(seq, lossScale, new TrainingPass(generation));
    }

    private CausalLmLoss.Total trainingPass(PackedSequence seq, float lossScale, TrainingPass pass) {
        int n = seq.length();
        int d = config.hiddenSize();
        VirtualRows virtual = virtualRows(seq);
        PackedSequence rows = virtual == null ? seq : virtual.rows();
        int m = rows.length();
        int[] lossRows = CrossEntropy.countedRows(rows);
        if (lossRows.length == 0) {
            return new CausalLmLoss.Total(0, 0);
        }
        Workspace ws = workspace(m, n);
        encodePrefix();
        float[] x = virtual == null ? embed(seq.tokens()) : virtualInput(virtual, seq);
        for (int l = 0; l < blocks.size(); l++) {
            BlockActivations acts = l < stopLayer || checkpointing ? ws.scratch : ws.layers[l];
            x = blockForward(blocks.get(l), x, rows, acts, pass, ws.hidden);
            if (checkpointing && l >= stopLayer) {
                System.arraycopy(acts.xIn, 0, ws.layers[l].xIn, 0, m * d);
            }
        }
        finalNorm.forward(x, m, ws.normed, ws.finalRstd);
        HeadPass head = head(ws.normed, m, lossRows, rows.labels(), lossScale, ws.logits, pass,
                stopLayer < blocks.size() || finalNorm.param() != null);
        CausalLmLoss.Total total = head.total();
        float[] dNormed = head.dNormed();
        float[] dx = ws.gradients[0];
        Arrays.fill(dx, 0, m * d, 0f);
        finalNorm.backward(dNormed, x, ws.finalRstd, m, dx);
        for (int l = blocks.size() - 1; l >= stopLayer; l--) {
            BlockActivations acts = ws.layers[l];
            if (checkpointing) {
                // the last block's output is no longer needed: the recomputed output goes where it was
                blockForward(blocks.get(l), acts.xIn, rows, ws.scratch, pass, ws.hidden);
                acts = ws.scratch;
            }
            boolean needInputGrad = l > stopLayer || embedParam != null || promptEmbeddings != null;
            float[] dIn = dx == ws.gradients[0] ? ws.gradients[1] : ws.gradients[0];
            dx = blockBackward(blocks.get(l), acts, ws.grads, rows, dx, dIn, needInputGrad, pass);
        }
        if (promptEmbeddings != null) {
            virtual.addPromptGrad(dx, promptEmbeddings.grad(), d);
        }
        if (prefixEncoder != null) {
            prefixEncoder.backward(prefix.grad());
        }
        if (embedParam != null) {
            float[] g = embedParam.grad();
            int[] tokens = seq.tokens();
            for (int t = 0; t < n; t++) {
                int row = virtual == null ? t : virtual.realRow(t);
                for (int i = 0; i < d; i++) {
                    g[tokens[t] * d + i] += dx[row * d + i];
                }
            }
        }
        return total;
    }

    /** How {@code seq} runs with the adapter's virtual tokens; null without prompt or prefix tuning. */
    private VirtualRows virtualRows(PackedSequence seq) {
        if (promptEmbeddings != null) {
            return VirtualRows.prompt(seq, (int) promptEmbeddings.shape()[0], config.maxPositions());
        }
        if (prefix != null) {
            return VirtualRows.prefix(seq, (int) prefix.shape()[0], config.maxPositions());
        }
        return null;
    }

    private float[] virtualInput(VirtualRows virtual, PackedSequence seq) {
        float[] tokens = embed(seq.tokens());
        return virtual.input(tokens, promptEmbeddings == null ? null : promptEmbeddings.data(), config.hiddenSize());
    }

    /** With a prefix encoder, writes the prefix from its current parameters and clears the prefix's gradient. */
    private void encodePrefix() {
        if (prefixEncoder != null) {
            prefixEncoder.encode(prefix.data());
            prefix.zeroGrad();
        }
    }

    /** Prefix tuning's keys and values of block {@code b}'s layer for the attention, or null. */
    private SegmentAttention.Prefix prefixOf(Block b) {
        if (prefix == null) {
            return null;
        }
        int layer = blocks.indexOf(b);
        int kvDim = config.kvDim();
        return new SegmentAttention.Prefix(prefix.data(), prefix.grad(), VirtualTokens.prefixWidth(config),
                VirtualTokens.keyOffset(layer, kvDim), VirtualTokens.valueOffset(layer, kvDim),
                (int) prefix.shape()[0]);
    }

    /**
     * The buffers of the longest sequence seen so far, kept across steps so that each step allocates only small
     * temporaries: per trained block its activations (only its input under checkpointing), one scratch block, the
     * blocks' output (each block's input is copied into its activations first, so one buffer serves them all), the
     * final norm's output, the two gradients the backward passes between blocks in turn, the logits. Arrays a step
     * allocated and held from one block to the next were alive whenever the young generation was collected, and
     * piled up in the old one. Every consumer reads the row counts it is given, never the lengths of these arrays, so
     * a shorter sequence uses their first rows (and attention probabilities laid out for its own length).
     */
    private static final class Workspace {
        final int rows;
        final int real;
        final BlockActivations[] layers;
        final BlockActivations scratch;
        final BlockGradients grads;
        final float[] logits;
        final float[] finalRstd;
        final float[] hidden;
        final float[] normed;
        final float[][] gradients;

        Workspace(int rows, int real, int d, BlockActivations[] layers, BlockActivations scratch,
                  BlockGradients grads, float[] logits) {
            this.rows = rows;
            this.real = real;
            this.layers = layers;
            this.scratch = scratch;
            this.grads = grads;
            this.logits = logits;
            this.finalRstd = new float[rows];
            this.hidden = new float[rows * d];
            this.normed = new float[rows * d];
            this.gradients = new float[][] {new float[rows * d], new float[rows * d]};
        }

        boolean fits(int m, int n) {
            return m <= rows && n <= real;
        }
    }

    /**
     * Buffers for {@code m} block rows of which {@code n} are real tokens (fewer with prompt tuning): the kept ones
     * when they are large enough, else new ones for the larger of the old and new counts (they only grow).
     */
    private Workspace workspace(int m, int n) {
        if (workspace == null || !workspace.fits(m, n)) {
            int rows = workspace == null ? m : Math.max(m, workspace.rows);
            int real = workspace == null ? n : Math.max(n, workspace.real);
            workspace = null;
            BlockActivations[] layers = new BlockActivations[blocks.size()];
            for (int l = stopLayer; l < blocks.size(); l++) {
                layers[l] = checkpointing
                        ? BlockActivations.inputOnly(rows, config.hiddenSize())
                        : activations(rows);
            }
            BlockGradients grads = new BlockGradients(rows, config.hiddenSize(), config.qDim(), config.kvDim(),
                    config.intermediateSize());
            workspace = new Workspace(rows, real, config.hiddenSize(), layers, activations(rows), grads,
                    new float[frozenHead() ? 0 : real * config.vocabSize()]);
        }
        return workspace;
    }

    /** Activations for a forward-only pass of {@code m} rows, kept (grow-only) across calls. */
    private BlockActivations forwardScratch(int m) {
        if (forwardOnly == null || forwardOnlyRows < m) {
            forwardOnly = null;
            forwardOnly = activations(m);
            forwardOnlyRows = m;
        }
        return forwardOnly;
    }

    private BlockActivations activations(int n) {
        ModelConfig c = config;
        return new BlockActivations(n, c.hiddenSize(), c.qDim(), c.kvDim(), c.numHeads(), c.numKvHeads(),
                c.intermediateSize(), c.qkNorm(), sublayerAdapters);
    }


    private float[] embed(int[] tokens) {
        int d = config.hiddenSize();
        float[] x = new float[tokens.length * d];
        for (int t = 0; t < tokens.length; t++) {
            if (tokens[t] < 0 || tokens[t] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[t] + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
            embed.copyRow(tokens[t], x, t * d);
        }
        return x;
    }

    /** The loss of a sequence and the gradient it sends back through the final norm's output. */
    private record HeadPass(CausalLmLoss.Total total, float[] dNormed) {
    }

    /**
     * The lm_head and the loss for only the {@code rows} that carry one (prompt tokens, padding and the last row
     * cost neither logits nor head backward): gathers their normed states, computes their logits into
     * {@code logitsBuffer} and the cross-entropy (a frozen head: {@link FusedHead}, chunk by chunk, the buffer
     * unused); in training pass {@code pass} (null for the loss alone), back-propagates through the head (its own
     * gradient, and the input gradient when {@code needInput}) and scatters that into an {@code [n, hidden]}
     * gradient, zero elsewhere (null without a pass).
     */
    private HeadPass head(float[] normed, int n, int[] rows, int[] labels, float lossScale, float[] logitsBuffer,
                          TrainingPass pass, boolean needInput) {
        int d = config.hiddenSize();
        int k = rows.length;
        float[] picked = new float[k * d];
        int[] targets = new int[k];
        for (int i = 0; i < k; i++) {
            System.arraycopy(normed, rows[i] * d, picked, i * d, d);
            targets[i] = labels[rows[i] + 1];
        }
        float[] dPicked = pass != null && needInput ? new float[k * d] : null;
        CausalLmLoss.Total total;
        if (frozenHead()) {
            total = FusedHead.lossAndInputGrad(picked, k, lmHead.weight(), targets, lossScale, dPicked);
        } else {
            LinearHook.Saved saved = lmHead.forward(picked, k, logitsBuffer, pass);
            total = CrossEntropy.lossAndGrad(logitsBuffer, k, config.vocabSize(), targets, lossScale);
            if (pass != null) {
                lmHead.backward(logitsBuffer, picked, k, dPicked, pass, saved);
            }
        }
        if (pass == null) {
            return new HeadPass(total, null);
        }
        float[] dNormed = new float[n * d];
        if (needInput) {
            for (int i = 0; i < k; i++) {
                System.arraycopy(dPicked, i * d, dNormed, rows[i] * d, d);
            }
        }
        return new HeadPass(total, dNormed);
    }

    /**
     * Whether the lm_head is a plain frozen product (no trainable weight or bias, no adapter, no bias): then the
     * loss and its gradient go through {@link FusedHead}, which never holds the whole vocabulary's logits.
     */
    private boolean frozenHead() {
        return lmHead.param() == null && lmHead.biasParam() == null && lmHead.adapter() == null
                && lmHead.bias() == null;
    }

    private float[] logits(float[] x, int n, float[] rstd, float[] normed, float[] logits) {
        finalNorm.forward(x, n, normed, rstd);
        lmHead.forward(normed, n, logits);
        return logits;
    }

    /**
     * Runs one block on {@code xIn} (copied into the activations first, so {@code out} may be the same array) in
     * training pass {@code pass} (null for a forward without backward) and returns its output, written into
     * {@code out}.
     */
    private float[] blockForward(Block b, float[] xIn, PackedSequence seq, BlockActivations a, TrainingPass pass,
                                 float[] out) {
        int n = seq.length();
        int d = config.hiddenSize();
        System.arraycopy(xIn, 0, a.xIn, 0, n * d);
        b.inputNorm().forward(a.xIn, n, a.n1, a.rstd1);
        if (b.qNorm() != null) {
            a.qSaved = b.q().forward(a.n1, n, a.qRaw, pass);
            a.kSaved = b.k().forward(a.n1, n, a.kRaw, pass);
            b.qNorm().forward(a.qRaw, n * config.numHeads(), a.q, a.qRstd);
            b.kNorm().forward(a.kRaw, n * config.numKvHeads(), a.k, a.kRstd);
        } else {
            a.qSaved = b.q().forward(a.n1, n, a.q, pass);
            a.kSaved = b.k().forward(a.n1, n, a.k, pass);
        }
        a.vSaved = b.v().forward(a.n1, n, a.v, pass);
        rotate(a.q, a.k, seq.positions(), n, false);
        attention.forward(a.q, a.k, a.v, prefixOf(b), seq.segmentStarts(), n, a.attn);
        a.oSaved = b.o().forward(a.attn, n, out, pass);
        if (b.attnAdapter() != null) {
            System.arraycopy(out, 0, a.attnOut, 0, n * d);
            b.attnAdapter().forward(a.attnOut, n, out);
        }
        Ops.add(a.xIn, out, a.xMid, n * d);
        b.postNorm().forward(a.xMid, n, a.n2, a.rstd2);
        a.gateSaved = b.gate().forward(a.n2, n, a.gate, pass);
        a.upSaved = b.up().forward(a.n2, n, a.up, pass);
        SwiGlu.forward(a.gate, a.up, a.act, n * config.intermediateSize());
        a.downSaved = b.down().forward(a.act, n, out, pass);
        if (b.mlpAdapter() != null) {
            System.arraycopy(out, 0, a.mlpOut, 0, n * d);
            b.mlpAdapter().forward(a.mlpOut, n, out);
        }
        Ops.add(out, a.xMid, out, n * d);
        return out;
    }

    /**
     * RoPE on the queries {@code q [n, qDim]} and keys {@code k [n, kvDim]} at their positions, in place, split over
     * the kernel threads; {@code inverse} rotates gradients back (the backward).
     */
    private void rotate(float[] q, float[] k, int[] pos, int n, boolean inverse) {
        Parallel.parallelForRange(n, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                if (inverse) {
                    rope.applyInverse(q, t * config.qDim(), config.numHeads(), pos[t]);
                    rope.applyInverse(k, t * config.kvDim(), config.numKvHeads(), pos[t]);
                } else {
                    rope.apply(q, t * config.qDim(), config.numHeads(), pos[t]);
                    rope.apply(k, t * config.kvDim(), config.numKvHeads(), pos[t]);
                }
            }
        });
    }

    /**
     * From the gradient of a block's output, accumulates its parameter gradients in training pass {@code pass} and
     * returns that of its input, written into {@code dIn} (another array than {@code dOut}).
     */
    private float[] blockBackward(Block b, BlockActivations a, BlockGradients g, PackedSequence seq, float[] dOut,
                                  float[] dIn, boolean needInput, TrainingPass pass) {
        int n = seq.length();
        int d = config.hiddenSize();
        int f = config.intermediateSize();
        float[] dAct = g.dAct;
        float[] dDown = dOut;
        if (b.mlpAdapter() != null) {
            dDown = new float[n * d];
            b.mlpAdapter().backward(dOut, a.mlpOut, n, dDown);
        }
        b.down().backward(dDown, a.act, n, dAct, pass, a.downSaved);
        SwiGlu.backward(a.gate, a.up, dAct, g.dGate, g.dUp, n * f);
        float[] dn2 = g.dn2;
        b.gate().backward(g.dGate, a.n2, n, dn2, pass, a.gateSaved);
        b.up().backward(g.dUp, a.n2, n, g.part, pass, a.upSaved);
        Ops.add(dn2, g.part, dn2, n * d);
        float[] dMid = dIn;
        System.arraycopy(dOut, 0, dMid, 0, n * d);
        b.postNorm().backward(dn2, a.xMid, a.rstd2, n, dMid);

        float[] dAttn = g.dAttn;
        float[] dO = dMid;
        if (b.attnAdapter() != null) {
            dO = new float[n * d];
            b.attnAdapter().backward(dMid, a.attnOut, n, dO);
        }
        b.o().backward(dO, a.attn, n, dAttn, pass, a.oSaved);
        float[] dq = g.dq;
        float[] dk = g.dk;
        float[] dv = g.dv;
        attention.backward(dAttn, a.q, a.k, a.v, prefixOf(b), seq.segmentStarts(), n, dq, dk, dv);
        rotate(dq, dk, seq.positions(), n, true);
        float[] qIn = a.n1;
        if (b.qNorm() != null) {
            float[] dqRaw = new float[n * config.qDim()];
            float[] dkRaw = new float[n * config.kvDim()];
            b.qNorm().backward(dq, a.qRaw, a.qRstd, n * config.numHeads(), dqRaw);
            b.kNorm().backward(dk, a.kRaw, a.kRstd, n * config.numKvHeads(), dkRaw);
            dq = dqRaw;
            dk = dkRaw;
        }
        boolean needN1 = needInput || b.inputNorm().param() != null;
        float[] dn1 = needN1 ? g.dn1 : null;
        float[] part = needN1 ? g.part : null;
        b.q().backward(dq, qIn, n, dn1, pass, a.qSaved);
        b.k().backward(dk, qIn, n, part, pass, a.kSaved);
        if (needN1) {
            Ops.add(dn1, part, dn1, n * d);
        }
        b.v().backward(dv, qIn, n, part, pass, a.vSaved);
        if (needN1) {
            Ops.add(dn1, part, dn1, n * d);
            b.inputNorm().backward(dn1, a.xIn, a.rstd1, n, needInput ? dMid : null);
        }
        return dMid;
    }
}
