package dev.tailor.io.gguf;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.TensorFormatException;

import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The Hugging Face {@code config.json} a GGUF file's metadata describes ({@code <arch>.block_count},
 * {@code .embedding_length}, {@code .attention.head_count} …), so a GGUF model is configured exactly as the
 * safetensors model it was converted from.
 */
public final class GgufConfig {
    /** The architectures Tailor reads ({@code general.architecture}), which are also their {@code model_type}s. */
    public static final List<String> ARCHITECTURES = List.of("llama", "mistral", "qwen2", "qwen3");

    private GgufConfig() {
    }

    /** {@code general.architecture}, checked to be one Tailor reads. */
    public static String architecture(GgufFile file) {
        String arch = file.metadata().string("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new TensorFormatException(file.path() + ": architecture \"" + arch + "\" is not supported "
                    + "(supported: " + String.join(", ", ARCHITECTURES) + ")");
        }
        return arch;
    }

    /**
     * Whether llama.cpp stores this architecture's Q and K rows permuted: it rotates adjacent pairs (RoPE "norm")
     * for llama and mistral, so its converter interleaves each head's two halves; qwen2 and qwen3 rotate halves
     * (RoPE "neox") as Hugging Face does and keep the order.
     */
    static boolean permutesQueryKey(String arch) {
        return arch.equals("llama") || arch.equals("mistral");
    }

    /**
     * The {@code config.json} of the model in {@code file}.
     *
     * @throws TensorFormatException naming the file and the metadata key that is missing, wrong or describes
     *                               something Tailor does not run (mixture of experts, partial RoPE, YaRN …)
     */
    public static ObjectNode huggingFace(GgufFile file) {
        GgufMetadata m = file.metadata();
        String arch = architecture(file);
        String p = arch + ".";
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("model_type", arch);
        c.put("hidden_act", "silu");
        int hidden = m.positiveInt(p + "embedding_length");
        int heads = m.positiveInt(p + "attention.head_count");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", m.positiveInt(p + "feed_forward_length"));
        c.put("num_hidden_layers", m.positiveInt(p + "block_count"));
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", m.has(p + "attention.head_count_kv")
                ? m.positiveInt(p + "attention.head_count_kv") : heads);
        int headDim = hidden / heads;
        if (m.has(p + "attention.key_length")) {
            headDim = m.positiveInt(p + "attention.key_length");
            long valueLength = m.integer(p + "attention.value_length", headDim);
            if (valueLength != headDim) {
                throw fail(file, p + "attention.value_length " + valueLength + " differs from key_length " + headDim);
            }
            c.put("head_dim", headDim);
        }
        long ropeDims = m.integer(p + "rope.dimension_count", headDim);
        if (ropeDims != headDim) {
            throw fail(file, p + "rope.dimension_count " + ropeDims + " rotates part of each head of " + headDim
                    + " (partial RoPE is not supported)");
        }
        if (m.integer(p + "expert_count", 0) > 0) {
            throw fail(file, p + "expert_count " + m.integer(p + "expert_count")
                    + ": mixture-of-experts models are not supported");
        }
        c.put("rms_norm_eps", shortest(m.real(p + "attention.layer_norm_rms_epsilon", 1e-6)));
        c.put("rope_theta", shortest(m.real(p + "rope.freq_base", 10000.0)));
        c.put("max_position_embeddings", m.has(p + "context_length") ? m.positiveInt(p + "context_length") : 2048);
        GgufTensor embed = file.tensor("token_embd.weight");
        c.put("vocab_size", embed.dims().length == 2 ? embed.dims()[1] : 0);
        c.put("tie_word_embeddings", !file.contains("output.weight"));
        if (m.has("tokenizer.ggml.bos_token_id")) {
            c.put("bos_token_id", m.integer("tokenizer.ggml.bos_token_id"));
        }
        if (m.has("tokenizer.ggml.eos_token_id")) {
            c.put("eos_token_id", m.integer("tokenizer.ggml.eos_token_id"));
        }
        ropeScaling(file, p, headDim, c);
        return c;
    }

    /** The decimal a float32 value was written from (1e-5 rather than 9.999999747378752e-6). */
    private static double shortest(double value) {
        return (float) value == value ? Double.parseDouble(Float.toString((float) value)) : value;
    }

    /**
     * {@code rope_scaling}: linear from {@code <arch>.rope.scaling.type}, or Llama 3's from the
     * {@code rope_freqs} tensor llama.cpp's converter writes instead of its parameters. The converter computes
     * those factors with {@code low_freq_factor} 1, {@code high_freq_factor} 4 and an original context of 8192 (the
     * values of every Llama 3.1, 3.2 and 3.3 model); the factor is their largest, and the tensor must equal the
     * factors those parameters give.
     */
    private static void ropeScaling(GgufFile file, String p, int headDim, ObjectNode c) {
        GgufMetadata m = file.metadata();
        String type = m.string(p + "rope.scaling.type", "none");
        switch (type) {
            case "none" -> { }
            case "linear" -> {
                ObjectNode s = c.putObject("rope_scaling");
                s.put("rope_type", "linear");
                s.put("factor", shortest(m.real(p + "rope.scaling.factor", Double.NaN)));
            }
            default -> throw fail(file, p + "rope.scaling.type \"" + type + "\" is not supported (none, linear)");
        }
        if (!file.contains(GgufNames.ROPE_FREQS)) {
            return;
        }
        if (!type.equals("none")) {
            throw fail(file, "both " + p + "rope.scaling.type and tensor " + GgufNames.ROPE_FREQS);
        }
        GgufTensor t = file.tensor(GgufNames.ROPE_FREQS);
        if (t.type() != GgmlType.F32 || t.elementCount() != headDim / 2) {
            throw fail(file, "tensor " + GgufNames.ROPE_FREQS + " must be F32 of " + headDim / 2 + " values, is "
                    + t);
        }
        float[] stored = file.data(t).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
        float factor = 0;
        for (float f : stored) {
            factor = Math.max(factor, f);
        }
        double theta = c.get("rope_theta").asDouble();
        int original = 8192;
        for (int i = 0; i < stored.length; i++) {
            double expected = llama3Factor(theta, headDim, i, factor, 1, 4, original);
            if (Math.abs(expected - stored[i]) > 1e-4 * Math.abs(expected)) {
                throw fail(file, "tensor " + GgufNames.ROPE_FREQS + " is not Llama 3's RoPE scaling with factor "
                        + factor + ", low_freq_factor 1, high_freq_factor 4 and original context " + original
                        + " (value " + i + " is " + stored[i] + ", expected " + expected + ")");
            }
        }
        ObjectNode s = c.putObject("rope_scaling");
        s.put("rope_type", "llama3");
        s.put("factor", shortest(factor));
        s.put("low_freq_factor", 1.0);
        s.put("high_freq_factor", 4.0);
        s.put("original_max_position_embeddings", original);
    }

    /** The factor llama.cpp's converter writes for frequency {@code i} under Llama 3's scaling. */
    private static double llama3Factor(double theta, int dim, int i, double factor, double low, double high,
                                       int original) {
        float freq = (float) (1.0 / Math.pow(theta, (2.0 * i) / dim));
        double wavelen = 2 * Math.PI / freq;
        if (wavelen < original / high) {
            return 1;
        }
        if (wavelen > original / low) {
            return factor;
        }
        double smooth = (original / wavelen - low) / (high - low);
        return 1 / ((1 - smooth) / factor + smooth);
    }

    private static TensorFormatException fail(GgufFile file, String message) {
        return new TensorFormatException(file.path() + ": " + message);
    }
}
