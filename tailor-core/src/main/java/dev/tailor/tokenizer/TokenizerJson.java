package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads the parts of a parsed {@code tokenizer.json}: the BPE model, added tokens, normalizer, pre-tokenizer,
 * post-processor and decoder. Every error names the file and the field (as a JSON path) that is wrong.
 */
final class TokenizerJson {
    private static final char METASPACE = '▁';

    private final Path file;

    /** A reader whose errors name {@code file}. */
    TokenizerJson(Path file) {
        this.file = file;
    }

    /** A {@link TokenizerException} naming the file and {@code field}. */
    TokenizerException error(String field, String problem) {
        return new TokenizerException(file + ": field " + field + ": " + problem);
    }

    /** {@code model}: must be of type BPE. */
    BpeModel model(JsonNode root) {
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) {
            throw error("model", "missing (expected an object with \"type\": \"BPE\")");
        }
        String type = model.has("type") ? text(model, "type", "model.type") : model.has("merges") ? "BPE" : null;
        if (!"BPE".equals(type)) {
            throw error("model.type", "unsupported model type " + (type == null ? "(absent)" : "'" + type + "'")
                    + ", expected BPE");
        }
        JsonNode vocabNode = model.get("vocab");
        if (vocabNode == null || !vocabNode.isObject()) {
            throw error("model.vocab", "missing (expected an object of token → id)");
        }
        Map<String, Integer> vocab = HashMap.newHashMap(vocabNode.size());
        int bound = idBound(root);
        int maxId = -1;
        for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
            int id = id(e.getValue(), "model.vocab[\"" + e.getKey() + "\"]", bound);
            vocab.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
        }
        String[] tokens = new String[maxId + 1];
        vocab.forEach((token, id) -> tokens[id] = token);
        checkAbsentOrEmpty(model, "continuing_subword_prefix");
        checkAbsentOrEmpty(model, "end_of_word_suffix");
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0) {
            throw error("model.dropout", "BPE dropout is not supported, got " + dropout);
        }
        int unkId = -1;
        JsonNode unk = model.get("unk_token");
        if (unk != null && !unk.isNull()) {
            Integer id = vocab.get(text(model, "unk_token", "model.unk_token"));
            if (id == null) {
                throw error("model.unk_token", "token '" + unk.textValue() + "' is not in model.vocab");
            }
            unkId = id;
        }
        return new BpeModel(vocab, tokens, merges(model, vocab), unkId, flag(model, "fuse_unk", "model", false),
                flag(model, "byte_fallback", "model", false), flag(model, "ignore_merges", "model", false));
    }

    private PairRanks merges(JsonNode model, Map<String, Integer> vocab) {
        JsonNode merges = model.get("merges");
        if (merges == null || !merges.isArray()) {
            throw error("model.merges", "missing (expected an array of merges)");
        }
        PairRanks ranks = new PairRanks(merges.size());
        for (int i = 0; i < merges.size(); i++) {
            JsonNode merge = merges.get(i);
            String field = "model.merges[" + i + "]";
            String left;
            String right;
            if (merge.isTextual()) {
                String s = merge.textValue();
                int space = s.indexOf(' ');
                if (space <= 0 || space != s.lastIndexOf(' ') || space == s.length() - 1) {
                    throw error(field, "expected \"left right\", got \"" + s + "\"");
                }
                left = s.substring(0, space);
                right = s.substring(space + 1);
            } else if (merge.isArray() && merge.size() == 2 && merge.get(0).isTextual() && merge.get(1).isTextual()) {
                left = merge.get(0).textValue();
                right = merge.get(1).textValue();
            } else {
                throw error(field, "expected \"left right\" or [\"left\", \"right\"], got " + merge);
            }
            Integer leftId = vocab.get(left);
            Integer rightId = vocab.get(right);
            Integer mergedId = vocab.get(left + right);
            if (leftId == null || rightId == null) {
                throw error(field, "merge refers to unknown token '" + (leftId == null ? left : right) + "'");
            }
            if (mergedId == null) {
                throw error(field, "merged token '" + left + right + "' is not in model.vocab");
            }
            ranks.add(leftId, rightId, mergedId);
        }
        return ranks;
    }

    /** {@code added_tokens}; absent means none. */
    List<AddedToken> addedTokens(JsonNode root) {
        JsonNode added = root.get("added_tokens");
        List<AddedToken> result = new ArrayList<>();
        if (added == null || added.isNull()) {
            return result;
        }
        if (!added.isArray()) {
            throw error("added_tokens", "expected an array");
        }
        int bound = idBound(root);
        for (int i = 0; i < added.size(); i++) {
            JsonNode t = added.get(i);
            String field = "added_tokens[" + i + "]";
            result.add(new AddedToken(id(t.get("id"), field + ".id", bound), text(t, "content", field + ".content"),
                    flag(t, "special", field, false), flag(t, "lstrip", field, false), flag(t, "rstrip", field, false),
                    flag(t, "single_word", field, false), flag(t, "normalized", field, false)));
        }
        return result;
    }

    /** {@code normalizer}, or null. */
    TextNormalizer normalizer(JsonNode node, String field) {
        if (node == null || node.isNull()) {
            return null;
        }
        String type = text(node, "type", field + ".type");
        return switch (type) {
            case "Sequence" -> {
                List<TextNormalizer> steps = new ArrayList<>();
                JsonNode list = array(node, "normalizers", field);
                for (int i = 0; i < list.size(); i++) {
                    String step = field + ".normalizers[" + i + "]";
                    steps.add(normalizer(step(list.get(i), step), step));
                }
                yield new TextNormalizer.Sequence(steps);
            }
            case "Prepend" -> new TextNormalizer.Prepend(text(node, "prepend", field + ".prepend"));
            case "Replace" -> new TextNormalizer.Replace(pattern(node, field),
                    text(node, "content", field + ".content"));
            case "NFC" -> new TextNormalizer.UnicodeForm(Normalizer.Form.NFC);
            case "NFD" -> new TextNormalizer.UnicodeForm(Normalizer.Form.NFD);
            case "NFKC" -> new TextNormalizer.UnicodeForm(Normalizer.Form.NFKC);
            case "NFKD" -> new TextNormalizer.UnicodeForm(Normalizer.Form.NFKD);
            case "Lowercase" -> new TextNormalizer.Lowercase();
            default -> throw error(field + ".type", "unsupported normalizer '" + type
                    + "' (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase)");
        };
    }

    /**
     * {@code pre_tokenizer}; when absent, the whole text is one word (cut before runs of {@code ▁} when the
     * vocabulary allows it, see {@link PreTokenizer.Whole}).
     */
    PreTokenizer preTokenizer(JsonNode node, String field, BpeModel model) {
        if (node == null || node.isNull()) {
            return new PreTokenizer.Whole(canCutBeforeMetaspace(model) ? METASPACE : 0);
        }
        String type = text(node, "type", field + ".type");
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                JsonNode list = array(node, "pretokenizers", field);
                for (int i = 0; i < list.size(); i++) {
                    String step = field + ".pretokenizers[" + i + "]";
                    steps.add(preTokenizer(step(list.get(i), step), step, model));
                }
                yield new PreTokenizer.Sequence(steps);
            }
            case "Split" -> {
                if (flag(node, "invert", field, false)) {
                    throw error(field + ".invert", "inverted Split is not supported");
                }
                yield new PreTokenizer.Split(pattern(node, field), behavior(node, field));
            }
            case "ByteLevel" -> new PreTokenizer.ByteLevel(flag(node, "add_prefix_space", field, true),
                    flag(node, "use_regex", field, true));
            case "Metaspace" -> new PreTokenizer.Metaspace(replacement(node, field), prependScheme(node, field),
                    flag(node, "split", field, true));
            default -> throw error(field + ".type", "unsupported pre-tokenizer '" + type
                    + "' (supported: Sequence, Split, ByteLevel, Metaspace)");
        };
    }

    private static boolean canCutBeforeMetaspace(BpeModel model) {
        for (String token : model.tokens()) {
            if (token == null) {
                continue;
            }
            for (int i = 1; i < token.length(); i++) {
                if (token.charAt(i) == METASPACE && token.charAt(i - 1) != METASPACE) {
                    return false;
                }
            }
        }
        return true;
    }

    private PreTokenizer.Behavior behavior(JsonNode node, String field) {
        String behavior = text(node, "behavior", field + ".behavior");
        return switch (behavior) {
            case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
            case "Removed" -> PreTokenizer.Behavior.REMOVED;
            case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
            default -> throw error(field + ".behavior", "unsupported split behavior '" + behavior
                    + "' (supported: Isolated, Removed, MergedWithPrevious, MergedWithNext)");
        };
    }

    private char replacement(JsonNode node, String field) {
        String replacement = node.has("replacement") ? text(node, "replacement", field + ".replacement") : "▁";
        if (replacement.length() != 1) {
            throw error(field + ".replacement", "expected one character, got '" + replacement + "'");
        }
        return replacement.charAt(0);
    }

    private PreTokenizer.Metaspace.PrependScheme prependScheme(JsonNode node, String field) {
        if (!node.has("prepend_scheme")) {
            return flag(node, "add_prefix_space", field, true)
                    ? PreTokenizer.Metaspace.PrependScheme.ALWAYS : PreTokenizer.Metaspace.PrependScheme.NEVER;
        }
        String scheme = text(node, "prepend_scheme", field + ".prepend_scheme");
        return switch (scheme) {
            case "always" -> PreTokenizer.Metaspace.PrependScheme.ALWAYS;
            case "first" -> PreTokenizer.Metaspace.PrependScheme.FIRST;
            case "never" -> PreTokenizer.Metaspace.PrependScheme.NEVER;
            default -> throw error(field + ".prepend_scheme", "expected always, first or never, got '" + scheme + "'");
        };
    }

    /**
     * A {@code pattern} of {@code {"String": ...}} or {@code {"Regex": ...}}. Regexes (Oniguruma in
     * {@code tokenizers}) compile with Unicode character classes, so {@code \s} is Unicode White_Space as there.
     */
    private Pattern pattern(JsonNode node, String field) {
        JsonNode pattern = node.get("pattern");
        if (pattern != null && pattern.path("String").isTextual()) {
            return Pattern.compile(Pattern.quote(pattern.get("String").textValue()));
        }
        if (pattern != null && pattern.path("Regex").isTextual()) {
            try {
                return Pattern.compile(pattern.get("Regex").textValue(), Pattern.UNICODE_CHARACTER_CLASS);
            } catch (PatternSyntaxException e) {
                throw error(field + ".pattern.Regex", "invalid regex: " + e.getDescription());
            }
        }
        throw error(field + ".pattern", "expected {\"String\": ...} or {\"Regex\": ...}, got " + pattern);
    }

    /** {@code decoder}; when absent, token texts are joined as they are. */
    TokenDecoder decoder(JsonNode node) {
        if (node == null || node.isNull()) {
            return new TokenDecoder(false, (char) 0, false, 0);
        }
        DecoderSteps steps = new DecoderSteps();
        steps.add(node, "decoder");
        return new TokenDecoder(steps.byteLevel, steps.spaceSymbol, steps.byteFallback, steps.strip);
    }

    /** Collects decoder steps, checking each is one the per-token model of {@link TokenDecoder} can express. */
    private final class DecoderSteps {
        boolean byteLevel;
        char spaceSymbol;
        boolean byteFallback;
        boolean fused;
        int strip;

        void add(JsonNode node, String field) {
            String type = text(node, "type", field + ".type");
            switch (type) {
                case "Sequence" -> {
                    JsonNode list = array(node, "decoders", field);
                    for (int i = 0; i < list.size(); i++) {
                        add(list.get(i), field + ".decoders[" + i + "]");
                    }
                }
                case "ByteLevel" -> byteLevel = true;
                case "ByteFallback" -> byteFallback = true;
                case "Fuse" -> fused = true;
                case "Replace" -> {
                    JsonNode from = node.path("pattern").path("String");
                    if (!from.isTextual() || from.textValue().length() != 1
                            || !" ".equals(node.path("content").asText())) {
                        throw error(field, "only Replace of one character by \" \" is supported, got " + node);
                    }
                    spaceSymbol = from.textValue().charAt(0);
                }
                case "Metaspace" -> {
                    spaceSymbol = replacement(node, field);
                    if (prependScheme(node, field) != PreTokenizer.Metaspace.PrependScheme.NEVER) {
                        strip = 1;
                    }
                }
                case "Strip" -> {
                    if (!fused || !" ".equals(node.path("content").asText()) || node.path("stop").asInt() != 0) {
                        throw error(field, "only Strip of leading spaces after Fuse is supported, got " + node);
                    }
                    strip = node.path("start").asInt();
                }
                default -> throw error(field + ".type", "unsupported decoder '" + type
                        + "' (supported: Sequence, ByteLevel, ByteFallback, Fuse, Replace, Metaspace, Strip)");
            }
        }
    }

    /**
     * The ids a {@code post_processor} adds before and after a single sequence: {@code TemplateProcessing}'s
     * {@code single}, nothing for {@code ByteLevel}, both through {@code Sequence}.
     */
    int[][] postProcessor(JsonNode node, String field, int bound) {
        if (node == null || node.isNull()) {
            return new int[][] {new int[0], new int[0]};
        }
        String type = text(node, "type", field + ".type");
        return switch (type) {
            case "ByteLevel" -> new int[][] {new int[0], new int[0]};
            case "Sequence" -> {
                IntList prefix = new IntList(2);
                IntList suffix = new IntList(2);
                JsonNode list = array(node, "processors", field);
                for (int i = 0; i < list.size(); i++) {
                    int[][] part = postProcessor(list.get(i), field + ".processors[" + i + "]", bound);
                    prefix.addAll(part[0]);
                    suffix.addAll(part[1]);
                }
                yield new int[][] {prefix.toArray(), suffix.toArray()};
            }
            case "TemplateProcessing" -> template(node, field, bound);
            default -> throw error(field + ".type", "unsupported post-processor '" + type
                    + "' (supported: TemplateProcessing, ByteLevel, Sequence)");
        };
    }

    private int[][] template(JsonNode node, String field, int bound) {
        JsonNode single = array(node, "single", field);
        IntList prefix = new IntList(2);
        IntList suffix = new IntList(2);
        boolean seenSequence = false;
        for (int i = 0; i < single.size(); i++) {
            JsonNode item = single.get(i);
            String itemField = field + ".single[" + i + "]";
            if (item.has("Sequence")) {
                seenSequence = true;
                continue;
            }
            String name = text(item.path("SpecialToken"), "id", itemField + ".SpecialToken.id");
            JsonNode ids = node.path("special_tokens").path(name).path("ids");
            if (!ids.isArray()) {
                throw error(field + ".special_tokens", "no entry with ids for '" + name + "'");
            }
            for (int j = 0; j < ids.size(); j++) {
                (seenSequence ? suffix : prefix).add(id(ids.get(j), field + ".special_tokens[\"" + name + "\"].ids["
                        + j + "]", bound));
            }
        }
        if (!seenSequence) {
            throw error(field + ".single", "no Sequence item");
        }
        return new int[][] {prefix.toArray(), suffix.toArray()};
    }

    /**
     * The bound every token id must stay below: the number of {@code model.vocab} entries plus the number of
     * {@code added_tokens}. Ids index tables sized by the largest one, so a sparse id (a vocabulary of 3 tokens with
     * an id of 1,000,000,000) is refused instead of allocating for it.
     */
    static int idBound(JsonNode root) {
        JsonNode added = root.get("added_tokens");
        return root.path("model").path("vocab").size() + (added != null && added.isArray() ? added.size() : 0);
    }

    /**
     * A token id: an integer JSON number in {@code [0, bound)} (not a float, a string, or a number out of int
     * range that would wrap).
     */
    private int id(JsonNode id, String field, int bound) {
        if (id == null || !id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
            throw error(field, "expected a non-negative integer id, got " + id);
        }
        if (id.intValue() >= bound) {
            throw error(field, "id " + id.intValue() + " is out of range: ids must be below " + bound
                    + " (the number of model.vocab entries plus added_tokens)");
        }
        return id.intValue();
    }

    private void checkAbsentOrEmpty(JsonNode model, String name) {
        JsonNode node = model.get(name);
        if (node != null && !node.isNull() && !node.asText().isEmpty()) {
            throw error("model." + name, "not supported, got " + node);
        }
    }

    /** A step of a {@code Sequence}, which must be an object (null would mean "no step" where it stands alone). */
    private JsonNode step(JsonNode node, String field) {
        if (!node.isObject()) {
            throw error(field, "expected an object with a \"type\", got " + node);
        }
        return node;
    }

    private JsonNode array(JsonNode node, String name, String field) {
        JsonNode list = node.get(name);
        if (list == null || !list.isArray()) {
            throw error(field + "." + name, "missing (expected an array)");
        }
        return list;
    }

    private String text(JsonNode node, String name, String field) {
        JsonNode value = node.get(name);
        if (value == null || !value.isTextual()) {
            throw error(field, value == null ? "missing (expected a string)" : "expected a string, got " + value);
        }
        return value.textValue();
    }

    private boolean flag(JsonNode node, String name, String field, boolean absent) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return absent;
        }
        if (!value.isBoolean()) {
            throw error(field + "." + name, "expected true or false, got " + value);
        }
        return value.booleanValue();
    }
}
