package dev.tailor.bench.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.tensor.DType;

import java.nio.file.Path;
import java.util.List;

/**
 * The valid inputs the targets mutate, generated so fuzzing needs no model files: a tiny Llama {@code config.json},
 * two tiny tokenizers (byte-level BPE as GPT-2 and Llama 3 have, and SentencePiece-style BPE with byte fallback as
 * Llama 2 has) and a small safetensors file.
 */
public final class Seeds {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Merges of both tokenizers, over their base alphabets; each merged token joins the vocabulary in order. */
    private static final List<String[]> MERGES = List.of(new String[] {"h", "e"}, new String[] {"i", "n"},
            new String[] {"t", "he"}, new String[] {"a", "n"}, new String[] {"e", "r"}, new String[] {"o", "n"},
            new String[] {"in", "g"}, new String[] {"r", "e"});

    private Seeds() {
    }

    /** A tiny Llama {@code config.json} with llama3 RoPE scaling, explicit head size and two end tokens. */
    public static ObjectNode modelConfig() {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("vocab_size", 320);
        c.put("hidden_size", 16);
        c.put("intermediate_size", 32);
        c.put("num_hidden_layers", 2);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("head_dim", 4);
        c.put("max_position_embeddings", 64);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        ObjectNode rope = c.putObject("rope_scaling");
        rope.put("rope_type", "llama3");
        rope.put("factor", 8.0);
        rope.put("low_freq_factor", 1.0);
        rope.put("high_freq_factor", 4.0);
        rope.put("original_max_position_embeddings", 32);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", false);
        c.put("attention_bias", false);
        c.put("bos_token_id", 1);
        c.putArray("eos_token_id").add(2).add(3);
        c.put("torch_dtype", "float32");
        return c;
    }

    /**
     * A byte-level BPE {@code tokenizer.json}: the 256 byte symbols, the merges, an end-of-text token added, a
     * regex split before the byte-level step, NFC normalization.
     */
    public static ObjectNode byteLevelTokenizer() {
        ObjectNode t = tokenizerFrame();
        ObjectNode model = bpe(t);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(byteSymbol(b)), b);
        }
        merges(model, vocab);
        added(t, "<|endoftext|>", vocab.size());
        t.putObject("normalizer").put("type", "NFC");
        ObjectNode pre = t.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", "\\s+|\\p{L}+|\\p{N}{1,3}|[^\\s\\p{L}\\p{N}]+");
        split.put("behavior", "Isolated");
        split.put("invert", false);
        ObjectNode byteLevel = steps.addObject();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", true);
        byteLevel.put("use_regex", false);
        ObjectNode post = t.putObject("post_processor");
        post.put("type", "ByteLevel");
        post.put("add_prefix_space", true);
        post.put("trim_offsets", false);
        post.put("use_regex", true);
        ObjectNode decoder = t.putObject("decoder");
        decoder.put("type", "ByteLevel");
        decoder.put("add_prefix_space", true);
        decoder.put("trim_offsets", true);
        decoder.put("use_regex", true);
        return t;
    }

    /** The {@code tokenizer_config.json} beside {@link #byteLevelTokenizer()}. */
    public static ObjectNode byteLevelTokenizerConfig() {
        ObjectNode c = JSON.createObjectNode();
        c.put("eos_token", "<|endoftext|>");
        c.put("pad_token", "<|endoftext|>");
        c.putNull("bos_token");
        return c;
    }

    /**
     * A SentencePiece-style BPE {@code tokenizer.json}: {@code <unk>}, {@code <s>}, {@code </s>}, the 256 byte-fallback
     * tokens, {@code ▁} and the merges; {@code ▁} prepended and put for spaces; {@code <s>} added in front.
     */
    public static ObjectNode sentencePieceTokenizer() {
        ObjectNode t = tokenizerFrame();
        ObjectNode model = bpe(t);
        model.put("unk_token", "<unk>");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        for (String special : List.of("<unk>", "<s>", "</s>")) {
            added(t, special, vocab.size());
            vocab.put(special, vocab.size());
        }
        for (int b = 0; b < 256; b++) {
            vocab.put("<0x%02X>".formatted(b), vocab.size());
        }
        vocab.put("\u2581", vocab.size());
        for (char c = 'a'; c <= 'z'; c++) {
            vocab.put(String.valueOf(c), vocab.size());
        }
        merges(model, vocab);
        ObjectNode normalizer = t.putObject("normalizer");
        normalizer.put("type", "Sequence");
        ArrayNode steps = normalizer.putArray("normalizers");
        steps.addObject().put("type", "Prepend").put("prepend", "\u2581");
        ObjectNode replace = steps.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", "\u2581");
        t.putNull("pre_tokenizer");
        ObjectNode post = t.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        post.putArray("single").add(special("<s>")).add(sequence("A"));
        post.putArray("pair").add(special("<s>")).add(sequence("A")).add(special("<s>")).add(sequence("B"));
        ObjectNode bos = post.putObject("special_tokens").putObject("<s>");
        bos.put("id", "<s>");
        bos.putArray("ids").add(1);
        bos.putArray("tokens").add("<s>");
        ObjectNode decoder = t.putObject("decoder");
        decoder.put("type", "Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        ObjectNode space = decoders.addObject().put("type", "Replace");
        space.putObject("pattern").put("String", "\u2581");
        space.put("content", " ");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        return t;
    }

    /** The {@code tokenizer_config.json} beside {@link #sentencePieceTokenizer()}. */
    public static ObjectNode sentencePieceTokenizerConfig() {
        ObjectNode c = JSON.createObjectNode();
        c.put("add_bos_token", true);
        c.put("add_eos_token", false);
        c.put("bos_token", "<s>");
        c.put("eos_token", "</s>");
        c.put("unk_token", "<unk>");
        c.putNull("pad_token");
        return c;
    }

    /** Writes a small safetensors file: F32, BF16 and I64 tensors and metadata. */
    public static void safetensors(Path file) {
        new SafetensorsWriter().metadata("format", "pt")
                .add("model.a.weight", DType.F32, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
                .add("model.b.weight", DType.BF16, new long[] {4}, new float[] {0.5f, -1, 2, 0})
                .add("model.c", new long[] {2}, new long[] {7, -7})
                .write(file);
    }

    private static ObjectNode tokenizerFrame() {
        ObjectNode t = JSON.createObjectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        t.putArray("added_tokens");
        return t;
    }

    private static ObjectNode bpe(ObjectNode tokenizer) {
        ObjectNode model = tokenizer.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("ignore_merges", false);
        return model;
    }

    private static void merges(ObjectNode model, ObjectNode vocab) {
        ArrayNode merges = model.putArray("merges");
        for (String[] m : MERGES) {
            merges.addArray().add(m[0]).add(m[1]);
            vocab.put(m[0] + m[1], vocab.size());
        }
    }

    private static void added(ObjectNode tokenizer, String content, int id) {
        ObjectNode a = ((ArrayNode) tokenizer.get("added_tokens")).addObject();
        a.put("id", id);
        a.put("content", content);
        a.put("single_word", false);
        a.put("lstrip", false);
        a.put("rstrip", false);
        a.put("normalized", false);
        a.put("special", true);
    }

    private static ObjectNode special(String id) {
        ObjectNode n = JSON.createObjectNode();
        n.putObject("SpecialToken").put("id", id).put("type_id", 0);
        return n;
    }

    private static ObjectNode sequence(String id) {
        ObjectNode n = JSON.createObjectNode();
        n.putObject("Sequence").put("id", id).put("type_id", 0);
        return n;
    }

    /** The symbol GPT-2's byte-level alphabet gives byte {@code b}: printable Latin-1 as itself, others from U+0100. */
    private static char byteSymbol(int b) {
        if (b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF) {
            return (char) b;
        }
        int n = 0;
        for (int i = 0; i < b; i++) {
            if (!(i >= '!' && i <= '~' || i >= 0xA1 && i <= 0xAC || i >= 0xAE && i <= 0xFF)) {
                n++;
            }
        }
        return (char) (256 + n);
    }
}
