package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes a byte-level tokenizer whose vocabulary is a corpus's frequent words, written as a {@code tokenizer.json}
 * that {@link Tokenizers#load} (and Hugging Face {@code tokenizers}) reads: GPT-2's split pattern and byte alphabet, a
 * BPE model with no merges and {@code ignore_merges}, so a word in the vocabulary is one token and any other is spelt
 * byte by byte. Words holding a digit are never in the vocabulary, so numbers are spelt digit by digit (as Llama's
 * tokenizers do).
 *
 * <p>Unlike BPE's merges, which leave intermediate tokens that the corpus itself never produces, every token here
 * is a word the corpus uses at least {@code minCount} times or a byte, so a model trained on the corpus has trained
 * the embedding of every token a new word is spelt with. The special tokens come first (ids 0, 1 …), then the 256
 * bytes, then the words by falling frequency (ties in text order). The first special token is the BOS that
 * {@code encode(text, true)} puts before a sequence.
 */
public final class WordVocabularyTrainer {
    private final int vocabSize;
    private final int minCount;
    private final List<String> specials;

    /**
     * A trainer for a vocabulary of at most {@code vocabSize} tokens ({@code specials} and the bytes included) of words
     * that occur at least {@code minCount} times.
     *
     * @param specials the special tokens, the BOS first (e.g. {@code <s>}, {@code </s>})
     * @throws IllegalArgumentException when there is no special token, the vocabulary cannot hold the bytes, or
     *                                  {@code minCount} is below 1
     */
    public WordVocabularyTrainer(int vocabSize, int minCount, List<String> specials) {
        if (specials.isEmpty()) {
            throw new IllegalArgumentException("a tokenizer needs at least one special token (its BOS)");
        }
        if (vocabSize < specials.size() + 256) {
            throw new IllegalArgumentException("vocab_size must hold the " + specials.size()
                    + " special tokens and the 256 bytes, got " + vocabSize);
        }
        if (minCount < 1) {
            throw new IllegalArgumentException("min_count must be >= 1, got " + minCount);
        }
        this.vocabSize = vocabSize;
        this.minCount = minCount;
        this.specials = List.copyOf(specials);
    }

    /** Counts the words of {@code texts} and returns the {@code tokenizer.json} document. */
    public ObjectNode train(Iterable<String> texts) {
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (String s : specials) {
            ids.put(s, ids.size());
        }
        for (int b = 0; b < 256; b++) {
            ids.putIfAbsent(String.valueOf(ByteLevelAlphabet.charOf(b)), ids.size());
        }
        for (String word : frequentWords(texts)) {
            if (ids.size() >= vocabSize) {
                break;
            }
            ids.putIfAbsent(word, ids.size());
        }
        return document(ids);
    }

    /** The words (as the tokenizer cuts and spells them) used at least {@code minCount} times, most used first. */
    private List<String> frequentWords(Iterable<String> texts) {
        Map<String, Integer> counts = new HashMap<>();
        Map<String, Integer> firstSeen = new HashMap<>();
        PreTokenizer split = new PreTokenizer.ByteLevel(false, true);
        List<String> words = new ArrayList<>();
        for (String text : texts) {
            words.clear();
            split.split(text, true, words);
            for (String w : words) {
                if (w.length() > 1 && w.chars().noneMatch(Character::isDigit)) {
                    counts.merge(w, 1, Integer::sum);
                    firstSeen.putIfAbsent(w, firstSeen.size());
                }
            }
        }
        return counts.entrySet().stream().filter(e -> e.getValue() >= minCount)
                .sorted((a, b) -> a.getValue().equals(b.getValue())
                        ? Integer.compare(firstSeen.get(a.getKey()), firstSeen.get(b.getKey()))
                        : Integer.compare(b.getValue(), a.getValue()))
                .map(Map.Entry::getKey).toList();
    }

    private ObjectNode document(Map<String, Integer> ids) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : specials) {
            ObjectNode t = added.addObject();
            t.put("id", ids.get(s));
            t.put("content", s);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        String bos = specials.getFirst();
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode special = post.putObject("special_tokens").putObject(bos);
        special.put("id", bos);
        special.putArray("ids").add(ids.get(bos));
        special.putArray("tokens").add(bos);
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "ByteLevel");
        decoder.put("add_prefix_space", true);
        decoder.put("trim_offsets", true);
        decoder.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", true);
        ObjectNode vocab = model.putObject("vocab");
        ids.forEach(vocab::put);
        model.putArray("merges");
        return root;
    }
}
