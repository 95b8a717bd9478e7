package dev.tailor.model;

import dev.tailor.io.StoredRows;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.io.TensorSource;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Site;
import dev.tailor.model.site.SublayerSite;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.FiniteScan;
import dev.tailor.tensor.Numerics;
import dev.tailor.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * All weights of a Llama-family model, bound by their Hugging Face names and checked against the config.
 *
 * @param embed     {@code model.embed_tokens.weight} [vocab, hidden]
 * @param layers    the decoder blocks
 * @param finalNorm {@code model.norm.weight} [hidden]
 * @param lmHead    {@code lm_head.weight} [vocab, hidden], or the embedding when tied
 */
public record LlamaWeights(WeightMatrix embed, List<LayerWeights> layers, float[] finalNorm, WeightMatrix lmHead) {

    /**
     * Binds the tensors of {@code source} for {@code config}.
     *
     * @throws TensorFormatException naming the file and tensor when one is missing or its shape or type
     *                               contradicts the config, or naming the tensors the config does not account for
     *                               (say a layer beyond {@code num_hidden_layers}), which would otherwise be
     *                               dropped silently; only {@linkplain #IGNORED recomputed buffers} may be left;
     *                               or naming the tensor and element when a weight is NaN or infinite (every
     *                               weight is scanned, see {@link FiniteScan})
     */
    public static LlamaWeights bind(ModelConfig config, TensorSource source) {
        Binder b = new Binder(config, source, new HashSet<>());
        int d = config.hiddenSize();
        WeightMatrix embed = b.matrix("model.embed_tokens.weight", config.vocabSize(), d);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            String p = Site.block(i) + ".";
            String a = SublayerSite.SELF_ATTN.module(i) + ".";
            boolean bias = config.attentionBias();
            boolean qk = config.qkNorm();
            layers.add(new LayerWeights(
                    b.vector(p + "input_layernorm.weight", d),
                    b.linear(i, LinearSite.Q_PROJ),
                    b.linear(i, LinearSite.K_PROJ),
                    b.linear(i, LinearSite.V_PROJ),
                    b.linear(i, LinearSite.O_PROJ),
                    bias ? b.bias(i, LinearSite.Q_PROJ) : null,
                    bias ? b.bias(i, LinearSite.K_PROJ) : null,
                    bias ? b.bias(i, LinearSite.V_PROJ) : null,
                    qk ? b.vector(a + "q_norm.weight", config.headDim()) : null,
                    qk ? b.vector(a + "k_norm.weight", config.headDim()) : null,
                    b.vector(p + "post_attention_layernorm.weight", d),
                    b.linear(i, LinearSite.GATE_PROJ),
                    b.linear(i, LinearSite.UP_PROJ),
                    b.linear(i, LinearSite.DOWN_PROJ)));
        }
        float[] finalNorm = b.vector("model.norm.weight", d);
        WeightMatrix lmHead = config.tieWordEmbeddings() && !source.contains("lm_head.weight")
                ? embed : b.matrix("lm_head.weight", config.vocabSize(), d);
        b.checkNothingLeft();
        return new LlamaWeights(embed, List.copyOf(layers), finalNorm, lmHead);
    }

    /**
     * Tensors a checkpoint may hold that are not weights: the rotary inverse frequencies that transformers before
     * 4.31 saved as a buffer of each attention module (and some exports save once per model). Tailor computes
     * them from the config.
     */
    private static final Pattern IGNORED =
            Pattern.compile("model\\.(?:layers\\.(\\d+)\\.self_attn\\.)?rotary_emb\\.inv_freq");

    /**
     * Looks tensors up and checks them against the expected shapes.
     *
     * @param bound the names looked up so far
     */
    private record Binder(ModelConfig config, TensorSource source, Set<String> bound) {

        /** Refuses tensors that were not bound and are not {@link #IGNORED} buffers of a layer the config has. */
        void checkNothingLeft() {
            List<String> left = new ArrayList<>();
            for (String name : source.names()) {
                Matcher m = IGNORED.matcher(name);
                boolean ignorable = m.matches() && (m.group(1) == null
                        || Integer.parseInt(m.group(1)) < config.numLayers());
                if (!bound.contains(name) && !ignorable) {
                    left.add(name);
                }
            }
            if (!left.isEmpty()) {
                Collections.sort(left);
                throw new TensorFormatException(source.file(left.getFirst()) + ": " + left.size() + " tensor(s) that "
                        + "config.json (model_type " + config.modelType() + ", num_hidden_layers "
                        + config.numLayers() + ", tie_word_embeddings " + config.tieWordEmbeddings()
                        + ") does not account for: " + String.join(", ", left.subList(0, Math.min(8, left.size())))
                        + (left.size() > 8 ? ", …" : ""));
            }
        }

        /** The weight of linear {@code site} in block {@code layer}, {@code [out, in]}. */
        WeightMatrix linear(int layer, LinearSite site) {
            int[] shape = config.shape(site);
            return matrix(site.module(layer) + ".weight", shape[0], shape[1]);
        }

        /** The bias of linear {@code site} in block {@code layer}, {@code [out]}. */
        float[] bias(int layer, LinearSite site) {
            return vector(site.module(layer) + ".bias", config.shape(site)[0]);
        }

        /**
         * The matrix {@code name}; one whose bytes are mapped in place may drop its pages (a Q8_0 one then takes the
         * integer products, from a regrouped copy that replaces them), one held in memory (a copy, or quantized at
         * load) may not. A Q4_0 or Q8_0 one whose file stores its rows in another order
         * ({@link TensorSource#storedRows}: GGUF's Q and K) is regrouped from the file's rows, and its copy in order
         * made only if something else reads it (training, an export): decoding does not hold Q and K twice.
         */
        WeightMatrix matrix(String name, int rows, int cols) {
            TensorInfo info = checked(name, true, rows, cols);
            StoredRows stored = source.storedRows(name);
            if (stored != null && (info.dtype() == DType.Q4_0 || info.dtype() == DType.Q8_0)) {
                source.dropMappedPages(name);
                return WeightMatrix.permuted(stored.bytes(), stored.storedRow(), () -> source.data(name),
                                info.dtype(), rows, cols)
                        .droppingMappedPages((from, to) -> source.dropMappedPages(name, from, to));
            }
            WeightMatrix w = new WeightMatrix(source.data(name), info.dtype(), rows, cols);
            if (!source.mappedInPlace(name)) {
                return w;
            }
            if (info.dtype() == DType.Q4_0 || info.dtype() == DType.Q8_0) {
                // their products read a regrouped copy that replaces a mapped file's pages: those the finite scan
                // just read would only be resident until then, beside the copies made before
                source.dropMappedPages(name);
            }
            return w.droppingMappedPages((from, to) -> source.dropMappedPages(name, from, to));
        }

        /** The row whose stored row is {@code storedRow}. */
        private static long inOrder(StoredRows stored, long storedRow) {
            int r = 0;
            while (stored.storedRow().applyAsInt(r) != storedRow) {
                r++;
            }
            return r;
        }

        float[] vector(String name, int length) {
            TensorInfo info = checked(name, false, length);
            var data = source.data(name);
            float[] out = new float[length];
            for (int i = 0; i < length; i++) {
                out[i] = Numerics.load(data, info.dtype(), i);
            }
            return out;
        }

        /** The tensor's info, checked: shape, a type the kernels read ({@code matrix}: also quantized), finite. */
        private TensorInfo checked(String name, boolean matrix, long... shape) {
            bound.add(name);
            if (!source.contains(name)) {
                throw new TensorFormatException(source.file(name) + ": missing tensor " + name
                        + " (expected by config.json for model_type " + config.modelType() + ")");
            }
            TensorInfo info = source.info(name);
            if (!Arrays.equals(info.shape(), shape)) {
                throw new TensorFormatException(source.file(name) + ": tensor " + name + " has shape "
                        + info.shapeString() + " but config.json implies " + Arrays.toString(shape));
            }
            if (!info.dtype().isWeightType() && !(matrix && info.dtype().hasKernels())) {
                throw new TensorFormatException(source.file(name) + ": tensor " + name + " has dtype "
                        + info.dtype() + "; " + (matrix
                        ? "weight matrices must be F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K"
                        : "weights must be " + DType.F32 + ", " + DType.F16 + " or " + DType.BF16));
            }
            // rows stored in another order are scanned as stored, so that the scan does not make their copy in order
            StoredRows stored = source.storedRows(name);
            MemorySegment bytes = stored != null ? stored.bytes() : source.data(name);
            long bad = FiniteScan.firstNonFinite(bytes, info.dtype());
            if (bad >= 0) {
                long element = bad;
                if (stored != null) {
                    long cols = shape[shape.length - 1];
                    element = inOrder(stored, bad / cols) * cols + bad % cols;
                }
                throw new TensorFormatException(source.file(name) + ": tensor " + name + " has a non-finite value ("
                        + FiniteScan.valueAt(bytes, info.dtype(), bad) + ") at element " + element);
            }
            return info;
        }
    }
}
