package dev.tailor.model;

import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.site.FrozenLinear;
import dev.tailor.model.site.LinearOp;
import dev.tailor.model.site.OutputStage;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Site;
import dev.tailor.model.site.SublayerHook;
import dev.tailor.model.site.SublayerSite;
import dev.tailor.io.ModelFiles;
import dev.tailor.io.TensorSource;
import dev.tailor.io.gguf.GgufFile;
import dev.tailor.io.gguf.GgufTensorSource;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;
import dev.tailor.tensor.Scratch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The Llama-family forward pass (llama, mistral, qwen2, qwen3) over weights read in place, with a KV cache:
 * a batched prefill over many tokens, then decoding one token at a time; logits only for the rows asked for.
 *
 * <p>Per block: {@code h = x + o_proj(attn(rope(q), rope(k), v))} over {@code rmsnorm(x)}, then
 * {@code x' = h + down(silu(gate(n)) · up(n))} with {@code n = rmsnorm(h)}; qwen2 adds q/k/v biases, qwen3
 * normalises each q and k head before RoPE.
 *
 * <p>A view whose adapters include prompt tuning or prefix tuning has {@link #virtualTokens()} virtual tokens in
 * front of every sequence, as PEFT puts them: when a forward starts on an empty cache, prompt tuning's embeddings
 * run through the blocks first (positions {@code 0 … P−1}) and prefix tuning's keys and values are stored as they
 * are (no RoPE) at those positions; the caller's tokens follow at positions {@code P …}.
 */
public final class LlamaModel implements AutoCloseable {
    /** Per-thread logits of a batch's rows, before {@link #forwardBatch(List, float[][])} hands each its own. */
    private static final ThreadLocal<float[]> LOGITS = ThreadLocal.withInitial(() -> new float[0]);
    /**
     * Prompt tokens {@link #prefill} runs through the blocks at once (llama.cpp's default micro-batch): enough rows
     * that the packed products run near their peak rate, few enough that a long prompt's activations stay small.
     */
    public static final int PREFILL_ROWS = 512;
    private final ModelConfig config;
    private final LlamaWeights weights;
    private final TensorSource source;
    private final RotaryEmbedding rope;
    private final List<AdapterSites> adapters;
    private final Map<String, LinearOp> linearOps;
    /** Per adapted module whose every hook has an output stage: the stages with what each wraps, innermost first. */
    private final Map<String, List<StagedHook>> outputStages;
    private final Map<String, List<SublayerHook>> sublayers;
    /** Prompt tuning's embeddings {@code [P, hidden]}, or null. */
    private final Parameter promptEmbeddings;
    /** Prefix tuning's keys and values in PEFT's layout {@code [P, layers·2·kvDim]}, or null. */
    private final Parameter prefix;
    private final int virtualTokens;

    /** A model over bound weights; {@code source} (may be null) is closed with the model. */
    public LlamaModel(ModelConfig config, LlamaWeights weights, TensorSource source) {
        this(config, weights, source, new RotaryEmbedding(config.headDim(), config.ropeTheta(), config.ropeScaling(),
                config.maxPositions()), List.of());
    }

    private LlamaModel(ModelConfig config, LlamaWeights weights, TensorSource source, RotaryEmbedding rope,
                       List<AdapterSites> adapters) {
        this.config = config;
        this.weights = weights;
        this.source = source;
        this.rope = rope;
        this.adapters = List.copyOf(adapters);
        Map<String, LinearOp> ops = new HashMap<>();
        Map<String, List<StagedHook>> stages = new HashMap<>();
        Set<String> unstaged = new HashSet<>();
        Map<String, List<SublayerHook>> subs = new HashMap<>();
        for (AdapterSites sites : adapters) {
            new TreeMap<>(sites.linear()).forEach((module, a) -> {
                LinearOp inner = ops.get(module);
                if (inner == null) {
                    inner = frozen(module);
                }
                a.checkFits(module, inner.out(), inner.in());
                ops.put(module, a.around(inner));
                OutputStage stage = a.outputStage();
                if (stage == null) {
                    unstaged.add(module);
                } else {
                    stages.computeIfAbsent(module, k -> new ArrayList<>()).add(new StagedHook(stage, inner));
                }
            });
            new TreeMap<>(sites.sublayer()).forEach((site, a) -> {
                checkSublayerSite(site);
                a.checkFits(site, config.hiddenSize());
                subs.computeIfAbsent(site, k -> new ArrayList<>()).add(a);
            });
        }
        this.linearOps = Map.copyOf(ops);
        unstaged.forEach(stages::remove);
        Map<String, List<StagedHook>> staged = new HashMap<>();
        stages.forEach((module, list) -> staged.put(module, List.copyOf(list)));
        this.outputStages = Map.copyOf(staged);
        this.sublayers = Map.copyOf(subs);
        Parameter prompt = null;
        Parameter kv = null;
        for (AdapterSites sites : adapters) {
            if (sites.promptEmbeddings() == null && sites.prefix() == null) {
                continue;
            }
            if (prompt != null || kv != null || (sites.promptEmbeddings() != null && sites.prefix() != null)) {
                throw new IllegalArgumentException("at most one prompt or prefix tuning adapter can be applied, "
                        + "as PEFT applies one; the stack has more");
            }
            prompt = sites.promptEmbeddings();
            kv = sites.prefix();
        }
        VirtualTokens.check(config, prompt, kv);
        this.promptEmbeddings = prompt;
        this.prefix = kv;
        this.virtualTokens = new AdapterSites(Map.of(), Map.of(), prompt, kv).virtualTokens();
    }

    /**
     * A view of this model with adapters, sharing the base weights (memory grows by the adapters only):
     * {@code stack} lists the adapters applied, in order (a later one wraps an earlier one at the same site, so
     * several stack). Closing the view does not close the base.
     *
     * @throws IllegalArgumentException naming the site when an adapter does not fit the model
     */
    public LlamaModel withAdapters(List<AdapterSites> stack) {
        return new LlamaModel(config, weights, null, rope, stack);
    }

    /** The adapters this view applies, in stacking order (empty for the base). */
    public List<AdapterSites> adapters() {
        return adapters;
    }

    /** The base without adapters. */
    public LlamaModel withoutAdapters() {
        return new LlamaModel(config, weights, null, rope, List.of());
    }

    /** The frozen base linear that {@code module} names. */
    private FrozenLinear frozen(String module) {
        Site.At<LinearSite> at = LinearSite.parse(module);
        if (at.layer() >= config.numLayers()) {
            throw new IllegalArgumentException(module + ": the model has " + config.numLayers() + " layers");
        }
        LayerWeights w = weights.layers().get(at.layer());
        return new FrozenLinear(w.linear(at.site()), w.bias(at.site()));
    }

    private void checkSublayerSite(String site) {
        Site.At<SublayerSite> at = SublayerSite.parse(site);
        if (at.layer() >= config.numLayers()) {
            throw new IllegalArgumentException("no sublayer site named " + site + " in a model of "
                    + config.numLayers() + " layers");
        }
    }

    /** What the adapter at {@code module} wraps it with, or null where the view has none. */
    LinearOp linearOp(String module) {
        return linearOps.isEmpty() ? null : linearOps.get(module);
    }

    /**
     * The output stages of the adapters at {@code module}, innermost first, each with what it wraps; null where the
     * view has no adapter there or one without a stage.
     */
    List<StagedHook> outputStages(String module) {
        return outputStages.isEmpty() ? null : outputStages.get(module);
    }

    /** Whether rows through this view take the base product at {@code module} as it is (then their stages, if any). */
    boolean sharesBase(String module) {
        return linearOp(module) == null || outputStages(module) != null;
    }

    /** The sublayer adapters at {@code site} in stacking order, or null where there are none. */
    List<SublayerHook> sublayerHooks(String site) {
        return sublayers.isEmpty() ? null : sublayers.get(site);
    }

    /** Prompt tuning's virtual token embeddings {@code [P, hidden]}, or null. */
    Parameter promptEmbeddings() {
        return promptEmbeddings;
    }

    RotaryEmbedding rope() {
        return rope;
    }

    /** An adapter's output stage and the op it wraps (the base, or the adapters stacked below it). */
    record StagedHook(OutputStage stage, LinearOp inner) {
    }

    /**
     * Opens a Hugging Face model directory: {@code config.json} and {@code model.safetensors} (or the shards of
     * {@code model.safetensors.index.json}), memory-mapped.
     *
     * @throws ConfigException                         if the config is invalid or unsupported
     * @throws dev.tailor.io.TensorFormatException if the weights are malformed or contradict the config
     */
    public static LlamaModel load(Path dir) {
        return load(dir, LoadOptions.DEFAULT);
    }

    /**
     * {@link #load(Path)} with the weights loaded as {@code options} says (quantized at load, say).
     *
     * @throws ConfigException                         if the config is invalid or unsupported
     * @throws dev.tailor.io.TensorFormatException if the weights are malformed or contradict the config
     */
    public static LlamaModel load(Path dir, LoadOptions options) {
        ModelConfig config = ModelConfig.load(dir);
        TensorSource source = openWeights(dir);
        if (options.quantize() != null) {
            source = new QuantizingSource(source, config, options);
        }
        try {
            return new LlamaModel(config, LlamaWeights.bind(config, source), source);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /**
     * The weights of a model: the safetensors of a model directory, or the tensors of a GGUF file under their
     * Hugging Face names ({@link GgufTensorSource}).
     *
     * @throws dev.tailor.io.TensorFormatException naming the file and what is wrong with it
     */
    public static TensorSource openWeights(Path dir) {
        return GgufFile.isGguf(dir) ? GgufTensorSource.open(dir) : ModelFiles.open(dir);
    }

    /** The architecture. */
    public ModelConfig config() {
        return config;
    }

    /** The weights. */
    public LlamaWeights weights() {
        return weights;
    }

    /** Virtual tokens the adapters put in front of every sequence (prompt or prefix tuning's P; 0 without). */
    public int virtualTokens() {
        return virtualTokens;
    }

    /** Tokens a sequence may have: the context length less the {@link #virtualTokens()}. */
    public int contextLength() {
        return config.maxPositions() - virtualTokens();
    }

    /**
     * A KV cache able to hold {@code capacity} tokens (at most {@link #contextLength()}), with room for the
     * virtual tokens in front.
     */
    public KvCache newCache(int capacity) {
        int virtual = virtualTokens();
        if (capacity > contextLength()) {
            throw new IllegalArgumentException("a cache of " + capacity + " positions"
                    + (virtual > 0 ? " after " + virtual + " virtual tokens" : "") + " exceeds the context length "
                    + config.maxPositions());
        }
        return new KvCache(config, capacity, virtual);
    }

    /**
     * Runs {@code tokens} after the {@code cache.length()} tokens held and appends their keys and values to the
     * cache; on an empty cache the adapters' virtual tokens go first.
     *
     * @return the hidden states after the final norm, {@code [tokens.length, hidden]}
     * @throws ContextOverflowException if the cache cannot hold the tokens
     */
    public float[] forward(KvCache cache, int[] tokens) {
        return run(cache, embed(tokens), tokens.length, 0);
    }

    /**
     * Whether the first token of a sequence is predicted: prompt tuning's virtual tokens run through the blocks in
     * front of it and the last one's logits predict it (PEFT counts that label); nothing precedes it without
     * virtual tokens or with prefix tuning's keys and values.
     */
    public boolean predictsFirstToken() {
        return promptEmbeddings != null;
    }

    /**
     * Like {@link #forward} on an empty cache, with the hidden state of the last virtual token (the one that predicts
     * the first token) in front: {@code [1 + tokens.length, hidden]}.
     *
     * @throws IllegalStateException unless {@link #predictsFirstToken()} and the cache is empty
     */
    public float[] forwardFromLastVirtual(KvCache cache, int[] tokens) {
        if (!predictsFirstToken() || cache.held() != 0) {
            throw new IllegalStateException("only prompt tuning's last virtual token, on an empty cache, precedes the "
                    + "first token");
        }
        return run(cache, embed(tokens), tokens.length, 1);
    }

    /**
     * Makes now the regrouped copies of the weights its products multiply that they would make on first use
     * ({@link WeightMatrix#prepareRegroupedCopy}: F32 and BF16 panels, Q4_0/Q8_0 blocks), so that a server's first
     * request does not wait for them (0.2–0.35 s per hundred million weights on an AMD Zen 5) and a prompt's products
     * pack their panels from the copies: contiguous panel rows, not 16 × 16 transposes of the file's rows (F32 prefill
     * 4–9% faster, BF16 1–6%, on an AMD Zen 5). An embedding that is not also the lm_head is only looked up, a row
     * per token, so it keeps its mapped pages (a copy would make all of it resident).
     */
    public void prepareProducts() {
        for (Object tensor : NamedTensors.of(weights).values()) {
            if (tensor instanceof WeightMatrix w && (w != weights.embed() || w == weights.lmHead())) {
                w.prepareRegroupedCopy();
            }
        }
    }

    private float[] embed(int[] tokens) {
        if (weights.lmHead() == weights.embed()) {
            weights.embed().prepareRegroupedCopy();
        }
        int n = tokens.length;
        int d = config.hiddenSize();
        float[] x = new float[n * d];
        for (int t = 0; t < n; t++) {
            int id = tokens[t];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
            weights.embed().copyRow(id, x, t * d);
        }
        return x;
    }

    /**
     * Like {@link #forward}, from input embeddings {@code [n, hidden]} instead of token ids (not modified).
     *
     * @throws ContextOverflowException if the cache cannot hold the rows
     */
    public float[] forwardEmbeddings(KvCache cache, float[] embeddings, int n) {
        if (embeddings.length != n * config.hiddenSize()) {
            throw new IllegalArgumentException("expected " + n + " rows of " + config.hiddenSize()
                    + " embeddings, got " + embeddings.length + " values");
        }
        return run(cache, embeddings.clone(), n, 0);
    }

    /**
     * Runs rows {@code x [n, hidden]} (overwritten) through the blocks, virtual tokens first on an empty cache, and
     * returns the hidden states of the last {@code virtualRows} virtual rows and the {@code n} rows.
     */
    private float[] run(KvCache cache, float[] x, int n, int virtualRows) {
        return BatchForward.run(this, List.of(new BatchForward.Part(this, cache, x, n, virtualRows)))[0];
    }

    /**
     * One step of many sequences at once, each through its own view of this base and its own cache: a decode token
     * or a chunk of prompt per sequence. The base products read each weight once for the whole batch (see
     * {@link BatchForward}); inside {@link MatMul#batchInvariant} each sequence's results are bit-identical to
     * running it alone.
     *
     * @return per chunk in order, the logits of its last token {@code [vocab]} (of every token,
     *         {@code [tokens, vocab]}, for a chunk asking for all rows), or null where not asked for
     * @throws IllegalArgumentException when a view is not of this base or a cache does not fit its view
     * @throws ContextOverflowException if a cache cannot hold its tokens (no cache changes then)
     */
    public float[][] forwardBatch(List<SequenceChunk> chunks) {
        float[][] logits = new float[chunks.size()][];
        for (int i = 0; i < logits.length; i++) {
            int rows = chunks.get(i).logitRows();
            logits[i] = rows > 0 ? new float[rows * config.vocabSize()] : null;
        }
        forwardBatch(chunks, logits);
        return logits;
    }

    /**
     * {@link #forwardBatch(List)} into the caller's arrays: the logits of chunk i's last token go to {@code logits[i]}
     * (a {@code [vocab]} array; every token's, {@code [tokens, vocab]}, for a chunk asking for all rows) for every
     * chunk that asks for them; the other entries are not touched. A server's step
     * reuses its requests' arrays: allocating two {@code [vocab]} arrays per sequence and step (6 MB a step of 16
     * sequences over a 49,152-token vocabulary) cost a young collection every ~16 steps, and their pauses were the
     * tail of the inter-token latency.
     *
     * @throws IllegalArgumentException when a view is not of this base, a cache does not fit its view, or
     *                                  {@code logits} is not one entry per chunk or an asking chunk's array is
     *                                  missing or not of its rows' size
     * @throws ContextOverflowException if a cache cannot hold its tokens (no cache changes then)
     */
    public void forwardBatch(List<SequenceChunk> chunks, float[][] logits) {
        if (logits.length != chunks.size()) {
            throw new IllegalArgumentException(chunks.size() + " chunks but " + logits.length + " arrays for logits");
        }
        int vocab = config.vocabSize();
        int wanted = 0;
        int asked = 0;
        for (int i = 0; i < chunks.size(); i++) {
            int rows = chunks.get(i).logitRows();
            if (rows > 0) {
                if (logits[i] == null || logits[i].length != rows * vocab) {
                    throw new IllegalArgumentException("chunk " + i + " asks for logits but its array is "
                            + (logits[i] == null ? "missing" : "[" + logits[i].length + "]") + ", not ["
                            + (rows > 1 ? rows + " × " : "") + vocab + "]");
                }
                wanted += rows;
                asked++;
            }
        }
        List<BatchForward.Part> parts = new ArrayList<>(chunks.size());
        for (SequenceChunk c : chunks) {
            parts.add(new BatchForward.Part(c.model(), c.cache(), embed(c.tokens()), c.tokens().length, 0));
        }
        float[][] hidden = BatchForward.run(this, parts);
        int d = config.hiddenSize();
        float[] last = new float[wanted * d];
        int[] asking = new int[asked];
        int[] firstRow = new int[asked];
        int row = 0;
        for (int i = 0, a = 0; i < chunks.size(); i++) {
            int rows = chunks.get(i).logitRows();
            if (rows > 0) {
                System.arraycopy(hidden[i], hidden[i].length - rows * d, last, row * d, rows * d);
                asking[a] = i;
                firstRow[a++] = row;
                row += rows;
            }
        }
        if (asked == 1) {
            MatMul.matmulTransposed(last, wanted, weights.lmHead(), logits[asking[0]]);
            return;
        }
        // a prompt scored in this step (rows beyond one per chunk) gets an array of its own, not a scratch kept after
        float[] all = wanted > asked ? new float[wanted * vocab] : Scratch.floats(LOGITS, wanted * vocab);
        MatMul.matmulTransposed(last, wanted, weights.lmHead(), all);
        // 3 MB for 16 rows, read and written from memory: on both threads
        Parallel.parallelFor(asked, a -> System.arraycopy(all, firstRow[a] * vocab, logits[asking[a]], 0,
                logits[asking[a]].length));
    }

    /**
     * Stores prefix tuning's keys and values at positions {@code 0 … P−1} of every layer, as they are (PEFT's
     * {@code past_key_values}: row p holds blocks {@code [layers·2][kvDim]}; layer l's key is block 2l, its value
     * block 2l+1).
     */
    void storePrefix(KvCache cache) {
        int virtual = virtualTokens;
        int kvDim = config.kvDim();
        int width = config.numLayers() * 2 * kvDim;
        float[] data = prefix.data();
        float[] k = new float[virtual * kvDim];
        float[] v = new float[virtual * kvDim];
        for (int l = 0; l < config.numLayers(); l++) {
            for (int p = 0; p < virtual; p++) {
                System.arraycopy(data, p * width + 2 * l * kvDim, k, p * kvDim, kvDim);
                System.arraycopy(data, p * width + (2 * l + 1) * kvDim, v, p * kvDim, kvDim);
            }
            cache.store(l, 0, virtual, k, v);
        }
        cache.advance(virtual);
    }

    /** Logits of rows {@code [from, to)} of {@code hidden} (from {@link #forward}): {@code [to−from, vocab]}. */
    public float[] logits(float[] hidden, int from, int to) {
        int d = config.hiddenSize();
        float[] rows = new float[(to - from) * d];
        System.arraycopy(hidden, from * d, rows, 0, rows.length);
        float[] out = new float[(to - from) * config.vocabSize()];
        MatMul.matmulTransposed(rows, to - from, weights.lmHead(), out);
        return out;
    }

    /**
     * Processes a prompt and returns the logits of its last token: {@link #PREFILL_ROWS} tokens at a time, so that its
     * work arrays and hidden states take what that many rows need, however long the prompt.
     *
     * @throws ContextOverflowException if the cache cannot hold the prompt (before any cache changes)
     */
    public float[] prefill(KvCache cache, int[] tokens) {
        int n = tokens.length;
        if (n == 0) {
            throw new IllegalArgumentException("cannot prefill an empty prompt");
        }
        if (cache.length() + n > cache.capacity()) {
            throw new ContextOverflowException(cache.length() + n, cache.capacity());
        }
        float[] hidden = null;
        int rows = 0;
        for (int from = 0; from < n; from += PREFILL_ROWS) {
            rows = Math.min(PREFILL_ROWS, n - from);
            hidden = forward(cache, Arrays.copyOfRange(tokens, from, from + rows));
        }
        return logits(hidden, rows - 1, rows);
    }

    /** Processes one token and returns its logits. */
    public float[] decode(KvCache cache, int token) {
        return logits(forward(cache, new int[] {token}), 0, 1);
    }

    @Override
    public void close() {
        if (source != null) {
            source.close();
        }
    }
}
