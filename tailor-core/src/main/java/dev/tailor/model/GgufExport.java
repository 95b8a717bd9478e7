package dev.tailor.model;

import dev.tailor.io.gguf.GgmlType;
import dev.tailor.io.gguf.GgufFile;
import dev.tailor.io.gguf.GgufTensorLayout;
import dev.tailor.io.gguf.GgufWriter;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tokenizer.GgufTokenizerMetadata;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a Llama, Mistral or Qwen model as a GGUF file llama.cpp runs, laid out as llama.cpp's Hugging Face converter
 * ({@code convert_hf_to_gguf.py}) writes it and, for Q8_0 and Q4_0, as {@code llama-quantize} then rewrites it:
 * architecture {@code llama} (for Mistral too), {@code qwen2} or {@code qwen3}, the {@code general.*} and
 * {@code <arch>.*} metadata, the tokenizer
 * ({@link GgufTokenizerMetadata}), the tensors under their GGUF names with Q and K rows interleaved, each of the type
 * {@link GgufTensorLayout#tensorType} gives, in the converter's order (the checkpoint's names sorted) or, quantized,
 * in {@code llama-quantize}'s (the model's tensors, then each block's, by name).
 */
public final class GgufExport {
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\..*");

    private GgufExport() {
    }

    /** The file types Tailor writes, by name: F32, F16, Q8_0, Q4_0. */
    public static GgmlType fileType(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        for (GgmlType t : List.of(GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0)) {
            if (t.name().equals(upper)) {
                return t;
            }
        }
        throw new IllegalArgumentException("GGUF type \"" + name + "\" is not one Tailor writes (F32, F16, Q8_0, Q4_0)");
    }

    /**
     * Writes the model.
     *
     * @param output    the GGUF file (written atomically)
     * @param config    the model's architecture (llama, mistral, qwen2 or qwen3)
     * @param weights   its weights (adapters already merged into them)
     * @param tokenizer the model the tokenizer comes from (a directory or a GGUF file)
     * @param name      {@code general.name}
     * @param fileType  F32, F16, Q8_0 or Q4_0
     * @throws IllegalArgumentException naming what the file cannot hold (another architecture, a RoPE scaling
     *                                  llama.cpp does not read, a tokenizer of another size than the embedding)
     * @throws dev.tailor.tokenizer.TokenizerException naming the tokenizer file and what is wrong with it
     * @throws UncheckedIOException from the file system; the output is then unchanged
     */
    public static void write(Path output, ModelConfig config, LlamaWeights weights, Path tokenizer, String name,
                             GgmlType fileType) {
        String arch = architecture(config);
        GgufTensorLayout.fileTypeId(fileType);
        GgufWriter out = new GgufWriter();
        Map<String, Object> named = NamedTensors.of(weights);
        metadata(out, arch, config, name, parameters(named), fileType);
        int tokens = GgufTokenizerMetadata.put(tokenizer, config.vocabSize(), out);
        if (tokens != config.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer of " + tokenizer + " has " + tokens
                    + " tokens for an embedding of " + config.vocabSize() + " rows");
        }
        if (fileType == GgmlType.Q8_0 || fileType == GgmlType.Q4_0) {
            out.putUint32("general.quantization_version", 2);
            out.putUint32("general.file_type", GgufTensorLayout.fileTypeId(fileType));
        }
        ropeFrequencies(out, config);
        for (Tensor t : tensors(named, arch, config, fileType)) {
            out.addTensor(t.gguf(), t.type(), t.dims(), t::fill);
        }
        try {
            out.write(output);
        } catch (IOException e) {
            throw new UncheckedIOException(output + ": cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * The {@code general.name} of a model: a GGUF file's own, else as the converter derives it from the directory's
     * (or file's) name ({@link #nameFromDirectory}).
     */
    public static String defaultName(Path model) {
        if (GgufFile.isGguf(model)) {
            try (GgufFile file = GgufFile.open(model)) {
                if (file.metadata().get("general.name") instanceof String name) {
                    return name;
                }
            }
        }
        return nameFromDirectory(model.toAbsolutePath().normalize().getFileName().toString());
    }

    /**
     * {@code general.name} as the converter derives it from a model directory's name: hyphens become spaces and
     * lower-case words are titled, version numbers ({@code v2}) and words starting with a digit kept
     * ({@code tiny-llama} → {@code Tiny Llama}, {@code qwen2.5-0.5b-instruct} → {@code Qwen2.5 0.5b Instruct}).
     */
    public static String nameFromDirectory(String directory) {
        String stem = directory.replaceFirst("(?i)\\.gguf$", "");
        List<String> words = new ArrayList<>();
        for (String w : stem.strip().replace('-', ' ').split("\\s+")) {
            boolean titled = w.equals(w.toLowerCase(Locale.ROOT)) && !w.equals(w.toUpperCase(Locale.ROOT))
                    && !w.matches("v\\d+(?:\\.\\d+)*|\\d.*");
            words.add(titled ? title(w) : w);
        }
        return String.join(" ", words);
    }

    /** Python's {@code str.title} of a lower-case word: each letter that follows no letter upper-cased. */
    private static String title(String word) {
        StringBuilder b = new StringBuilder(word.length());
        boolean afterLetter = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            b.appendCodePoint(afterLetter ? cp : Character.toTitleCase(cp));
            afterLetter = Character.isLetter(cp);
            i += Character.charCount(cp);
        }
        return b.toString();
    }

    /**
     * {@code general.size_label} as gguf-py writes it: the parameter count in K, M, B or T with at least two
     * significant digits ({@code 4.2M}, {@code 135M}, {@code 1.1B}).
     */
    static String sizeLabel(long parameters) {
        double scaled;
        String suffix;
        if (parameters > 1e12) {
            scaled = parameters * 1e-12;
            suffix = "T";
        } else if (parameters > 1e9) {
            scaled = parameters * 1e-9;
            suffix = "B";
        } else if (parameters > 1e6) {
            scaled = parameters * 1e-6;
            suffix = "M";
        } else {
            scaled = parameters * 1e-3;
            suffix = "K";
        }
        String whole = Long.toString(Math.round(scaled)).replaceFirst("^0+", "");
        int fix = Math.max(2 - whole.length(), 0);
        return String.format(Locale.ROOT, "%." + fix + "f", scaled) + suffix;
    }

    /** llama.cpp's architecture of a model type: Mistral's is llama (the converter writes it so), Qwen's its own. */
    private static String architecture(ModelConfig c) {
        return switch (c.modelType()) {
            case "llama", "mistral" -> "llama";
            case "qwen2", "qwen3" -> c.modelType();
            default -> throw new IllegalArgumentException("GGUF export writes llama, mistral, qwen2 and qwen3 models, "
                    + "not " + c.modelType());
        };
    }

    private static void metadata(GgufWriter out, String arch, ModelConfig c, String name, long parameters,
                                 GgmlType fileType) {
        String p = arch + ".";
        out.putString("general.architecture", arch);
        out.putString("general.type", "model");
        out.putString("general.name", name);
        out.putString("general.size_label", sizeLabel(parameters));
        out.putUint32(p + "block_count", c.numLayers());
        out.putUint32(p + "context_length", c.maxPositions());
        out.putUint32(p + "embedding_length", c.hiddenSize());
        out.putUint32(p + "feed_forward_length", c.intermediateSize());
        out.putUint32(p + "attention.head_count", c.numHeads());
        out.putUint32(p + "attention.head_count_kv", c.numKvHeads());
        out.putFloat32(p + "rope.freq_base", (float) c.ropeTheta());
        out.putFloat32(p + "attention.layer_norm_rms_epsilon", (float) c.rmsNormEps());
        out.putUint32("general.file_type", fileType == GgmlType.F16 ? 1 : 0);
        out.putUint32(p + "vocab_size", c.vocabSize());
        out.putUint32(p + "rope.dimension_count", c.headDim());
        if (c.headDim() != c.hiddenSize() / c.numHeads()) {
            out.putUint32(p + "attention.key_length", c.headDim());
            out.putUint32(p + "attention.value_length", c.headDim());
        }
        RopeScaling s = c.ropeScaling();
        if (s != null && s.type().equals("linear")) {
            out.putString(p + "rope.scaling.type", "linear");
            out.putFloat32(p + "rope.scaling.factor", (float) s.factor());
        } else if (s != null && !(s.type().equals("llama3") && arch.equals("llama"))) {
            throw new IllegalArgumentException("rope_scaling " + s.type() + " of a " + c.modelType()
                    + " model has no GGUF form Tailor writes (linear; llama3 for llama)");
        }
        out.putUint32("general.quantization_version", 2);
    }

    /**
     * Llama 3's RoPE scaling as the converter writes it: the tensor {@code rope_freqs.weight} of one factor per
     * frequency pair, by which llama.cpp divides the frequency.
     */
    private static void ropeFrequencies(GgufWriter out, ModelConfig c) {
        RopeScaling s = c.ropeScaling();
        if (s == null || !s.type().equals("llama3")) {
            return;
        }
        int half = c.headDim() / 2;
        float[] factors = new float[half];
        double lowWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        for (int i = 0; i < half; i++) {
            float freq = (float) (1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim()));
            double wavelen = 2 * Math.PI / freq;
            double factor = s.factor();
            if (wavelen < highWavelen) {
                factor = 1;
            } else if (wavelen <= lowWavelen) {
                double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                factor = 1 / ((1 - smooth) / s.factor() + smooth);
            }
            factors[i] = (float) factor;
        }
        out.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {half},
                dst -> MemorySegment.copy(factors, 0, dst, F32_LE, 0, half));
    }

    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The parameters of the tensors written (a tied head counted once). */
    private static long parameters(Map<String, Object> named) {
        long n = 0;
        for (Object t : named.values()) {
            n += t instanceof WeightMatrix w ? (long) w.rows() * w.cols() : ((float[]) t).length;
        }
        return n;
    }

    /** One tensor to write: its GGUF name, type, ggml dimensions, interleaved heads and values. */
    private record Tensor(String hf, String gguf, GgmlType type, long[] dims, int permutedHeads, Object value) {
        void fill(MemorySegment dst) {
            switch (value) {
                case WeightMatrix w -> GgufTensorLayout.encode((r, row) -> w.copyRow(r, row, 0), w.rows(), w.cols(),
                        permutedHeads, type, dst);
                case float[] v -> GgufTensorLayout.encode((r, row) -> row[0] = v[r], v.length, 1, permutedHeads,
                        type, dst);
                default -> throw new IllegalStateException("tensor " + hf + " is neither a matrix nor a vector");
            }
        }
    }

    private static List<Tensor> tensors(Map<String, Object> named, String arch, ModelConfig c, GgmlType fileType) {
        boolean tied = !named.containsKey("lm_head.weight");
        List<Tensor> tensors = new ArrayList<>();
        for (Map.Entry<String, Object> e : named.entrySet()) {
            String gguf = GgufTensorLayout.ggufName(e.getKey());
            long[] dims = e.getValue() instanceof WeightMatrix w ? new long[] {w.cols(), w.rows()}
                    : new long[] {((float[]) e.getValue()).length};
            int heads = GgufTensorLayout.permutedHeads(arch, gguf, c.numHeads(), c.numKvHeads());
            tensors.add(new Tensor(e.getKey(), gguf, GgufTensorLayout.tensorType(gguf, dims, fileType, tied), dims,
                    heads, e.getValue()));
        }
        if (fileType == GgmlType.Q8_0 || fileType == GgmlType.Q4_0) {
            tensors.sort(Comparator.comparingInt((Tensor t) -> block(t.gguf())).thenComparing(Tensor::gguf));
        } else {
            tensors.sort(Comparator.comparing(Tensor::hf));
        }
        return tensors;
    }

    /** The block of a GGUF tensor name, or -1 for the model's own tensors. */
    private static int block(String gguf) {
        Matcher m = BLOCK.matcher(gguf);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }
}
