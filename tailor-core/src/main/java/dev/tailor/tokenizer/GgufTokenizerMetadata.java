package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.tailor.io.gguf.GgufFile;
import dev.tailor.io.gguf.GgufMetadata;
import dev.tailor.io.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code tokenizer.ggml.*} metadata of a model's tokenizer, as llama.cpp's converter writes it (the reverse of
 * {@link GgufVocabulary}):
 * <ul>
 *   <li>a SentencePiece BPE vocabulary with byte fallback becomes model {@code llama} with each piece's score and
 *       type, from {@code tokenizer.model} when the model has one, else from {@code tokenizer.json} (each piece
 *       scored by its first merge, so the merges {@code GgufVocabulary} derives from the scores keep their order);</li>
 *   <li>a byte-level BPE vocabulary becomes model {@code gpt2} with its merges and the pre-tokenizer's llama.cpp
 *       name ({@code tokenizer.ggml.pre}: {@code llama-bpe}, {@code qwen2} or {@code gpt-2});</li>
 * </ul>
 * then the special tokens' ids, whether BOS, SEP and EOS are added (the post-processor's template, overridden by
 * {@code tokenizer_config.json}'s {@code add_*_token}) and the chat template. A GGUF model's tokenizer metadata is
 * copied as it is.
 */
public final class GgufTokenizerMetadata {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int NORMAL = 1;
    private static final int UNKNOWN = 2;
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;
    private static final int UNUSED = 5;
    private static final int BYTE = 6;
    /** The special token kinds in the converter's order, with their GGUF key names. */
    private static final Map<String, String> SPECIAL_KEYS = orderedMap(
            "bos", "bos", "eos", "eos", "unk", "unknown", "sep", "seperator", "pad", "padding");

    private GgufTokenizerMetadata() {
    }

    /**
     * Puts the tokenizer of the model at {@code model} (a directory or a GGUF file) into {@code out}.
     *
     * @param vocabSize the embedding's rows: a vocabulary with fewer tokens is padded with {@code [PADn]} tokens
     * @return the tokens written
     * @throws TokenizerException naming the file and what is missing or not supported
     */
    public static int put(Path model, int vocabSize, GgufWriter out) {
        if (GgufFile.isGguf(model)) {
            try (GgufFile file = GgufFile.open(model)) {
                copy(file.metadata(), out);
                return file.metadata().has("tokenizer.ggml.tokens")
                        ? file.metadata().strings("tokenizer.ggml.tokens").length : 0;
            }
        }
        JsonNode tokenizer = readJson(model.resolve(Tokenizers.TOKENIZER_JSON), true);
        JsonNode config = readJson(model.resolve(Tokenizers.TOKENIZER_CONFIG_JSON), false);
        JsonNode modelConfig = readJson(model.resolve("config.json"), false);
        JsonNode bpe = tokenizer.path("model");
        boolean byteLevel = "ByteLevel".equals(tokenizer.path("decoder").path("type").asText());
        Path spModel = model.resolve("tokenizer.model");
        List<String> tokens;
        if (byteLevel) {
            tokens = byteLevel(model, tokenizer, bpe, vocabSize, out);
        } else if (bpe.path("byte_fallback").asBoolean(false)) {
            tokens = sentencePiece(model, tokenizer, config, Files.isRegularFile(spModel) ? spModel : null, vocabSize,
                    out);
        } else {
            throw new TokenizerException(model.resolve(Tokenizers.TOKENIZER_JSON) + ": a BPE vocabulary without byte "
                    + "fallback or a byte-level decoder has no GGUF form (llama or gpt2)");
        }
        specialTokens(tokenizer, config, modelConfig, tokens, out);
        chatTemplate(model, config, out);
        return tokens.size();
    }

    private static void copy(GgufMetadata m, GgufWriter out) {
        for (String key : m.keys()) {
            if (!key.startsWith("tokenizer.")) {
                continue;
            }
            switch (m.get(key)) {
                case String s -> out.putString(key, s);
                case Boolean b -> out.putBool(key, b);
                case Long l -> out.putUint32(key, l);
                case Float f -> out.putFloat32(key, f);
                case Double d -> out.putFloat64(key, d);
                case String[] a -> out.putStrings(key, Arrays.asList(a));
                case float[] a -> out.putFloats(key, a);
                case long[] a -> out.putInts(key, Arrays.stream(a).mapToInt(Math::toIntExact).toArray());
                default -> throw new TokenizerException("metadata " + key + " has a type Tailor cannot copy");
            }
        }
    }

    private static List<String> sentencePiece(Path model, JsonNode tokenizer, JsonNode config, Path spModel,
                                              int vocabSize, GgufWriter out) {
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        if (spModel != null) {
            for (SentencePieceModelFile.Piece p : SentencePieceModelFile.read(spModel)) {
                tokens.add(p.text());
                scores.add(p.score());
                types.add(p.type());
            }
        } else {
            fromTokenizerJson(model, tokenizer, tokens, scores, types);
        }
        JsonNode decoder = config.path("added_tokens_decoder");
        for (Map.Entry<String, JsonNode> e : decoder.properties()) {
            int id = Integer.parseInt(e.getKey());
            String content = e.getValue().path("content").asText();
            if (id >= tokens.size()) {
                continue;
            }
            boolean special = e.getValue().path("special").asBoolean(false);
            tokens.set(id, special ? content : content.replace('▁', ' '));
            types.set(id, special ? CONTROL : USER_DEFINED);
            scores.set(id, -1000f);
        }
        for (int i = 1; tokens.size() < vocabSize; i++) {
            tokens.add("[PAD" + i + "]");
            scores.add(-1000f);
            types.add(UNUSED);
        }
        out.putString("tokenizer.ggml.model", "llama");
        out.putString("tokenizer.ggml.pre", "default");
        out.putStrings("tokenizer.ggml.tokens", tokens);
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
        }
        out.putFloats("tokenizer.ggml.scores", s);
        out.putInts("tokenizer.ggml.token_type", types.stream().mapToInt(Integer::intValue).toArray());
        return tokens;
    }

    /**
     * The pieces of a SentencePiece BPE {@code tokenizer.json}: each merged piece scored minus the index of the first
     * merge that makes it (the converter ordered the merges by the pieces' scores), the others 0; {@code <0xNN>}
     * pieces are bytes, the unknown token unknown, special added tokens control tokens.
     */
    private static void fromTokenizerJson(Path model, JsonNode tokenizer, List<String> tokens, List<Float> scores,
                                          List<Integer> types) {
        String[] byId = vocabById(model, tokenizer);
        Map<String, Integer> firstMerge = new HashMap<>();
        JsonNode merges = tokenizer.path("model").path("merges");
        for (int i = 0; i < merges.size(); i++) {
            firstMerge.putIfAbsent(mergedPiece(merges.get(i)), i);
        }
        String unk = tokenizer.path("model").path("unk_token").asText(null);
        Map<Integer, Boolean> added = new HashMap<>();
        tokenizer.path("added_tokens").forEach(t -> added.put(t.path("id").asInt(), t.path("special").asBoolean()));
        for (int id = 0; id < byId.length; id++) {
            String piece = byId[id];
            tokens.add(piece);
            Integer merge = firstMerge.get(piece);
            scores.add(merge == null ? 0f : -(float) merge);
            int type = piece.equals(unk) ? UNKNOWN
                    : added.containsKey(id) ? (added.get(id) ? CONTROL : USER_DEFINED)
                    : piece.matches("<0x[0-9A-F]{2}>") ? BYTE : NORMAL;
            types.add(type);
        }
    }

    private static String mergedPiece(JsonNode merge) {
        if (merge.isArray()) {
            return merge.get(0).asText() + merge.get(1).asText();
        }
        String m = merge.asText();
        int space = m.indexOf(' ');
        return space < 0 ? m : m.substring(0, space) + m.substring(space + 1);
    }

    private static List<String> byteLevel(Path model, JsonNode tokenizer, JsonNode bpe, int vocabSize,
                                          GgufWriter out) {
        String pre = preTokenizerName(model, tokenizer.path("pre_tokenizer"));
        String[] byId = vocabById(model, tokenizer);
        int[] types = new int[Math.max(byId.length, vocabSize)];
        Arrays.fill(types, NORMAL);
        tokenizer.path("added_tokens").forEach(t -> {
            int id = t.path("id").asInt();
            types[id] = t.path("special").asBoolean() ? CONTROL : USER_DEFINED;
        });
        List<String> tokens = new ArrayList<>(Arrays.asList(byId));
        for (int i = 1; tokens.size() < vocabSize; i++) {
            types[tokens.size()] = UNUSED;
            tokens.add("[PAD" + i + "]");
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : bpe.path("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        out.putString("tokenizer.ggml.model", "gpt2");
        out.putString("tokenizer.ggml.pre", pre);
        out.putStrings("tokenizer.ggml.tokens", tokens);
        out.putInts("tokenizer.ggml.token_type", Arrays.copyOf(types, tokens.size()));
        out.putStrings("tokenizer.ggml.merges", merges);
        return tokens;
    }

    /** llama.cpp's name of a byte-level pre-tokenizer: by its split regex, or GPT-2's when ByteLevel splits. */
    private static String preTokenizerName(Path model, JsonNode pre) {
        if ("ByteLevel".equals(pre.path("type").asText()) && pre.path("use_regex").asBoolean(true)) {
            return "gpt-2";
        }
        for (JsonNode step : pre.path("pretokenizers")) {
            String regex = step.path("pattern").path("Regex").asText(null);
            if ("Split".equals(step.path("type").asText()) && regex != null) {
                for (Map.Entry<String, String> e : GgufVocabulary.PRE_TOKENIZERS.entrySet()) {
                    if (e.getValue().equals(regex)) {
                        return e.getKey();
                    }
                }
            }
        }
        throw new TokenizerException(model.resolve(Tokenizers.TOKENIZER_JSON) + ": the pre-tokenizer is none llama.cpp "
                + "names (Llama 3's, Qwen2's or GPT-2's)");
    }

    /** The vocabulary and added tokens of {@code tokenizer.json}, by id; every id below the largest is needed. */
    private static String[] vocabById(Path model, JsonNode tokenizer) {
        Map<Integer, String> byId = new HashMap<>();
        tokenizer.path("model").path("vocab").properties().forEach(e -> byId.put(e.getValue().asInt(), e.getKey()));
        tokenizer.path("added_tokens").forEach(t -> byId.put(t.path("id").asInt(), t.path("content").asText()));
        String[] out = new String[byId.size()];
        for (Map.Entry<Integer, String> e : byId.entrySet()) {
            if (e.getKey() < 0 || e.getKey() >= out.length) {
                throw new TokenizerException(model.resolve(Tokenizers.TOKENIZER_JSON) + ": token ids are not 0 to "
                        + (out.length - 1) + " without gaps (id " + e.getKey() + ")");
            }
            out[e.getKey()] = e.getValue();
        }
        return out;
    }

    private static void specialTokens(JsonNode tokenizer, JsonNode config, JsonNode modelConfig, List<String> tokens,
                                      GgufWriter out) {
        Map<String, Integer> added = new HashMap<>();
        tokenizer.path("added_tokens").forEach(t -> added.putIfAbsent(t.path("content").asText(), t.path("id").asInt()));
        Map<String, String> text = new HashMap<>();
        for (Map.Entry<String, String> kind : SPECIAL_KEYS.entrySet()) {
            JsonNode entry = config.path(kind.getKey() + "_token");
            String content = entry.isTextual() ? entry.asText() : entry.path("content").asText(null);
            Integer id = content == null ? null : added.get(content);
            if (id == null && modelConfig.path(kind.getKey() + "_token_id").isInt()) {
                id = modelConfig.path(kind.getKey() + "_token_id").asInt();
            }
            if (id != null && id >= 0 && id < tokens.size()) {
                out.putUint32("tokenizer.ggml." + kind.getValue() + "_token_id", id);
                text.put(kind.getKey(), tokens.get(id));
            }
        }
        Map<String, Boolean> add = fromPostProcessor(tokenizer.path("post_processor"), text);
        for (String kind : List.of("bos", "eos", "unk", "sep", "pad")) {
            JsonNode flag = config.path("add_" + kind + "_token");
            if (flag.isBoolean()) {
                add.put(kind, flag.asBoolean());
            }
        }
        add.forEach((kind, value) -> out.putBool("tokenizer.ggml.add_" + kind + "_token", value));
    }

    /**
     * Whether BOS, SEP and EOS are added, as the converter reads a {@code TemplateProcessing} post-processor: a
     * special token first in the single template adds BOS, last adds EOS; a SEP or EOS between the pair template's
     * sequences adds SEP.
     */
    private static Map<String, Boolean> fromPostProcessor(JsonNode post, Map<String, String> special) {
        Map<String, Boolean> add = new LinkedHashMap<>();
        List<JsonNode> processors = new ArrayList<>();
        post.path("processors").forEach(processors::add);
        if (processors.isEmpty()) {
            processors.add(post);
        }
        for (JsonNode p : processors) {
            if (!"TemplateProcessing".equals(p.path("type").asText())) {
                continue;
            }
            List<JsonNode> single = list(p.path("single"));
            List<JsonNode> pair = list(p.path("pair"));
            String first = null;
            String last = null;
            if (single.size() > 1) {
                first = specialId(single.getFirst());
                if (first != null) {
                    add.put("bos", first.equals(special.get("bos")));
                }
                last = specialId(single.getLast());
                if (last != null) {
                    add.put("eos", last.equals(special.get("eos")));
                }
            }
            if (!pair.isEmpty()) {
                int from = first != null && first.equals(specialId(pair.getFirst())) ? 1 : 0;
                int to = last != null && last.equals(specialId(pair.getLast())) ? pair.size() - 1 : pair.size();
                List<JsonNode> middle = from < to ? pair.subList(from, to) : List.of();
                if (middle.size() > 2 && "A".equals(middle.getFirst().path("Sequence").path("id").asText())
                        && "B".equals(middle.getLast().path("Sequence").path("id").asText())) {
                    List<JsonNode> between = middle.subList(1, middle.size() - 1);
                    boolean sep = false;
                    String entry = specialId(between.getFirst());
                    if (entry != null && isSepOrEos(entry, special) && last == null) {
                        sep = true;
                    }
                    if (between.size() == 2 && isSepOrEos(specialId(between.get(1)), special)) {
                        sep = true;
                    }
                    add.put("sep", sep);
                }
            }
        }
        return add;
    }

    private static boolean isSepOrEos(String token, Map<String, String> special) {
        return token != null && (token.equals(special.get("sep")) || token.equals(special.get("eos")));
    }

    private static String specialId(JsonNode step) {
        return step.path("SpecialToken").path("id").asText(null);
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    private static void chatTemplate(Path model, JsonNode config, GgufWriter out) {
        JsonNode template = config.path("chat_template");
        String text = null;
        if (template.isTextual()) {
            text = template.asText();
        } else if (template.isArray()) {
            for (JsonNode named : template) {
                if ("default".equals(named.path("name").asText())) {
                    text = named.path("template").asText();
                }
            }
        } else {
            Path jinja = model.resolve("chat_template.jinja");
            try {
                text = Files.isRegularFile(jinja) ? Files.readString(jinja) : null;
            } catch (IOException e) {
                throw new TokenizerException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        }
        if (text != null) {
            out.putString("tokenizer.chat_template", text);
        }
    }

    private static JsonNode readJson(Path file, boolean required) {
        try {
            return JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            if (required) {
                throw new TokenizerException(file + ": not found (the model needs its tokenizer for a GGUF file)");
            }
            return NullNode.getInstance();
        } catch (IOException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> orderedMap(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }
}
