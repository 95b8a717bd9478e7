package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.gguf.GgufFile;
import dev.tailor.io.gguf.GgufMetadata;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code tokenizer.json} a GGUF file's {@code tokenizer.ggml.*} metadata describes, built as Hugging Face's
 * converters build it, so the tokenizer is the one {@link Tokenizers#load} makes for the model's own
 * {@code tokenizer.json}:
 * <ul>
 *   <li>{@code llama} (SentencePiece): a BPE model with byte fallback whose merges come from the pieces' scores as
 *       {@code transformers}' {@code SentencePieceExtractor} derives them (every split of a piece into two pieces,
 *       ordered by the whole piece's score, highest first), {@code ▁} for spaces and a prefix space;</li>
 *   <li>{@code gpt2} (byte-level BPE): the vocabulary and {@code tokenizer.ggml.merges}, split first by the regex
 *       of the pre-tokenizer {@code tokenizer.ggml.pre} names (llama.cpp's names: {@code llama-bpe} for Llama 3,
 *       {@code qwen2} for Qwen2 and Qwen3, {@code gpt-2}, {@code gpt2} or {@code default} for GPT-2's).</li>
 * </ul>
 * Control and unknown tokens ({@code token_type} 3 and 2) are special added tokens, user-defined ones (4) plain
 * added tokens; {@code add_bos_token} and {@code add_eos_token} put the ids around each sequence.
 */
final class GgufVocabulary {
    private static final int UNKNOWN = 2;
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** llama.cpp's pre-tokenizer names and Hugging Face's regexes for them. */
    static final Map<String, String> PRE_TOKENIZERS = Map.of(
            "llama-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "qwen2", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    /** The tokenizer and the settings of its {@code tokenizer_config.json}. */
    record Built(ObjectNode tokenizerJson, TokenizerConfig config) {
    }

    private GgufVocabulary() {
    }

    /**
     * Builds the tokenizer of {@code file}.
     *
     * @throws TokenizerException naming the file and the key that is missing or unsupported
     */
    static Built build(GgufFile file) {
        GgufMetadata m = file.metadata();
        Path path = file.path();
        String type = string(m, "tokenizer.ggml.model", path);
        String[] tokens = m.has("tokenizer.ggml.tokens") ? m.strings("tokenizer.ggml.tokens") : null;
        if (tokens == null || tokens.length == 0) {
            throw new TokenizerException(path + ": metadata tokenizer.ggml.tokens is missing or empty");
        }
        long[] types = m.has("tokenizer.ggml.token_type") ? m.integers("tokenizer.ggml.token_type") : null;
        if (types != null && types.length != tokens.length) {
            throw new TokenizerException(path + ": tokenizer.ggml.token_type has " + types.length + " entries for "
                    + tokens.length + " tokens");
        }
        ObjectNode root = JSON.objectNode();
        root.put("version", "1.0");
        int bos = tokenId(m, "tokenizer.ggml.bos_token_id", tokens.length, path);
        int eos = tokenId(m, "tokenizer.ggml.eos_token_id", tokens.length, path);
        int pad = tokenId(m, "tokenizer.ggml.padding_token_id", tokens.length, path);
        boolean addBos;
        switch (type) {
            case "llama" -> {
                addBos = m.bool("tokenizer.ggml.add_bos_token", true);
                sentencePiece(root, m, tokens, types, path);
            }
            case "gpt2" -> {
                addBos = m.bool("tokenizer.ggml.add_bos_token", false);
                byteLevel(root, m, tokens, path);
            }
            default -> throw new TokenizerException(path + ": tokenizer.ggml.model \"" + type
                    + "\" is not supported (llama, gpt2)");
        }
        root.set("added_tokens", addedTokens(tokens, types));
        boolean addEos = m.bool("tokenizer.ggml.add_eos_token", false);
        root.set("post_processor", postProcessor(tokens, addBos ? bos : -1, addEos ? eos : -1));
        TokenizerConfig config = new TokenizerConfig(null, null, bos >= 0 ? tokens[bos] : null,
                eos >= 0 ? tokens[eos] : null, pad >= 0 ? tokens[pad] : null);
        return new Built(root, config);
    }

    /** The token strings of the special tokens a chat template sees ({@code bos_token}, {@code eos_token}). */
    static Map<String, Object> specialTokens(GgufFile file) {
        GgufMetadata m = file.metadata();
        String[] tokens = m.strings("tokenizer.ggml.tokens");
        Map<String, Object> special = new LinkedHashMap<>();
        for (String key : List.of("bos", "eos", "unknown", "padding")) {
            int id = tokenId(m, "tokenizer.ggml." + key + "_token_id", tokens.length, file.path());
            if (id >= 0) {
                special.put(switch (key) {
                    case "unknown" -> "unk_token";
                    case "padding" -> "pad_token";
                    default -> key + "_token";
                }, tokens[id]);
            }
        }
        return special;
    }

    private static void sentencePiece(ObjectNode root, GgufMetadata m, String[] tokens, long[] types, Path path) {
        if (!m.has("tokenizer.ggml.scores")) {
            throw new TokenizerException(path + ": metadata tokenizer.ggml.scores is missing (a SentencePiece "
                    + "vocabulary needs the pieces' scores)");
        }
        float[] scores = m.floats("tokenizer.ggml.scores");
        if (scores.length != tokens.length) {
            throw new TokenizerException(path + ": tokenizer.ggml.scores has " + scores.length + " entries for "
                    + tokens.length + " tokens");
        }
        boolean prefixSpace = m.bool("tokenizer.ggml.add_space_prefix", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        int unk = tokenId(m, "tokenizer.ggml.unknown_token_id", tokens.length, path);
        if (unk < 0 && types != null) {
            for (int i = 0; i < types.length && unk < 0; i++) {
                unk = types[i] == UNKNOWN ? i : -1;
            }
        }
        if (unk >= 0) {
            model.put("unk_token", tokens[unk]);
        }
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.set("vocab", vocab(tokens));
        ArrayNode merges = model.putArray("merges");
        scoreMerges(tokens, scores).forEach(merges::add);
        ArrayNode normalizers = root.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
        if (prefixSpace) {
            normalizers.addObject().put("type", "Prepend").put("prepend", "▁");
        }
        ObjectNode replace = normalizers.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", "▁");
        root.putNull("pre_tokenizer");
        ArrayNode decoders = root.putObject("decoder").put("type", "Sequence").putArray("decoders");
        ObjectNode space = decoders.addObject().put("type", "Replace");
        space.putObject("pattern").put("String", "▁");
        space.put("content", " ");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        if (prefixSpace) {
            decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        }
    }

    /**
     * The merges of a SentencePiece BPE vocabulary: for each piece (in id order) every split into two pieces of the
     * vocabulary, ordered by the two halves' ids, then all of them by the whole piece's score, highest first (a
     * stable sort, so equal scores keep id order).
     */
    static List<String> scoreMerges(String[] tokens, float[] scores) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            ids.putIfAbsent(tokens[i], i);
        }
        record Merge(int left, int right, float score) {
        }
        List<Merge> merges = new ArrayList<>();
        List<Merge> local = new ArrayList<>();
        for (int t = 0; t < tokens.length; t++) {
            String piece = tokens[t];
            local.clear();
            for (int at = piece.isEmpty() ? 0 : piece.offsetByCodePoints(0, 1); at > 0 && at < piece.length();
                 at = piece.offsetByCodePoints(at, 1)) {
                Integer left = ids.get(piece.substring(0, at));
                Integer right = ids.get(piece.substring(at));
                if (left != null && right != null) {
                    local.add(new Merge(left, right, scores[t]));
                }
            }
            local.sort(Comparator.comparingInt(Merge::left).thenComparingInt(Merge::right));
            merges.addAll(local);
        }
        merges.sort((a, b) -> Float.compare(b.score(), a.score()));
        List<String> out = new ArrayList<>(merges.size());
        for (Merge merge : merges) {
            out.add(tokens[merge.left()] + " " + tokens[merge.right()]);
        }
        return out;
    }

    private static void byteLevel(ObjectNode root, GgufMetadata m, String[] tokens, Path path) {
        if (!m.has("tokenizer.ggml.merges")) {
            throw new TokenizerException(path + ": metadata tokenizer.ggml.merges is missing (a byte-level BPE "
                    + "vocabulary needs its merges)");
        }
        String pre = m.string("tokenizer.ggml.pre", "default");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.put("byte_fallback", false);
        model.put("ignore_merges", pre.equals("llama-bpe"));
        model.set("vocab", vocab(tokens));
        ArrayNode merges = model.putArray("merges");
        Arrays.stream(m.strings("tokenizer.ggml.merges")).forEach(merges::add);
        if (pre.equals("qwen2")) {
            root.putObject("normalizer").put("type", "NFC");
        } else {
            root.putNull("normalizer");
        }
        ObjectNode byteLevel = JSON.objectNode().put("type", "ByteLevel").put("add_prefix_space", false);
        String regex = PRE_TOKENIZERS.get(pre);
        if (regex != null) {
            ArrayNode steps = root.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
            ObjectNode split = steps.addObject().put("type", "Split");
            split.putObject("pattern").put("Regex", regex);
            split.put("behavior", "Isolated").put("invert", false);
            steps.add(byteLevel.put("use_regex", false));
        } else if (pre.equals("gpt2") || pre.equals("gpt-2") || pre.equals("default")) {
            root.set("pre_tokenizer", byteLevel.put("use_regex", true));
        } else {
            throw new TokenizerException(path + ": tokenizer.ggml.pre \"" + pre + "\" is not supported (llama-bpe, "
                    + "qwen2, gpt-2, gpt2, default)");
        }
        root.putObject("decoder").put("type", "ByteLevel");
    }

    private static ObjectNode vocab(String[] tokens) {
        ObjectNode vocab = JSON.objectNode();
        for (int i = 0; i < tokens.length; i++) {
            if (!vocab.has(tokens[i])) {
                vocab.put(tokens[i], i);
            }
        }
        return vocab;
    }

    private static ArrayNode addedTokens(String[] tokens, long[] types) {
        ArrayNode added = JSON.arrayNode();
        for (int i = 0; types != null && i < types.length; i++) {
            int t = (int) types[i];
            if (t == UNKNOWN || t == CONTROL || t == USER_DEFINED) {
                added.addObject().put("id", i).put("content", tokens[i]).put("single_word", false)
                        .put("lstrip", false).put("rstrip", false).put("normalized", t == USER_DEFINED)
                        .put("special", t != USER_DEFINED);
            }
        }
        return added;
    }

    private static ObjectNode postProcessor(String[] tokens, int bos, int eos) {
        ObjectNode post = JSON.objectNode().put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        ObjectNode specials = post.putObject("special_tokens");
        if (bos >= 0) {
            special(single, specials, tokens[bos], bos);
        }
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        if (eos >= 0) {
            special(single, specials, tokens[eos], eos);
        }
        post.putArray("pair");
        return post;
    }

    private static void special(ArrayNode single, ObjectNode specials, String token, int id) {
        single.addObject().putObject("SpecialToken").put("id", token).put("type_id", 0);
        ObjectNode entry = specials.putObject(token).put("id", token);
        entry.putArray("ids").add(id);
        entry.putArray("tokens").add(token);
    }

    private static String string(GgufMetadata m, String key, Path path) {
        if (!m.has(key)) {
            throw new TokenizerException(path + ": metadata " + key + " is missing (the file has no tokenizer)");
        }
        return m.string(key);
    }

    private static int tokenId(GgufMetadata m, String key, int count, Path path) {
        if (!m.has(key)) {
            return -1;
        }
        long id = m.integer(key);
        if (id < 0 || id >= count) {
            throw new TokenizerException(path + ": metadata " + key + " is " + id + ", not a token id (0 to "
                    + (count - 1) + ")");
        }
        return (int) id;
    }
}
