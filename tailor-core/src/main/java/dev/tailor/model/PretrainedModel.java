package dev.tailor.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A Hugging Face model directory opened for use: the network, its tokenizer, and the end-of-sequence ids
 * gathered from {@code config.json}, {@code generation_config.json} and the tokenizer config.
 */
public final class PretrainedModel implements AutoCloseable {
    private final Path dir;
    private final LoadOptions loading;
    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final Set<Integer> eosIds;
    private ChatTemplate chatTemplate;

    private PretrainedModel(Path dir, LoadOptions loading, LlamaModel model, Tokenizer tokenizer,
                            Set<Integer> eosIds) {
        this.dir = dir;
        this.loading = loading;
        this.model = model;
        this.tokenizer = tokenizer;
        this.eosIds = Set.copyOf(eosIds);
    }

    /** Opens {@code dir} (config, weights memory-mapped, tokenizer). */
    public static PretrainedModel load(Path dir) {
        return load(dir, LoadOptions.DEFAULT);
    }

    /** Opens {@code dir} with its weights loaded as {@code options} says. */
    public static PretrainedModel load(Path dir, LoadOptions options) {
        Tokenizer tokenizer = Tokenizers.load(dir);
        LlamaModel model = LlamaModel.load(dir, options);
        Set<Integer> eos = new LinkedHashSet<>(model.config().eosTokenIds());
        eos.addAll(generationConfigEos(dir));
        eos.addAll(tokenizer.eosIds());
        return new PretrainedModel(dir, options, model, tokenizer, eos);
    }

    private static Set<Integer> generationConfigEos(Path dir) {
        Path file = dir.resolve("generation_config.json");
        Set<Integer> ids = new LinkedHashSet<>();
        if (!Files.isRegularFile(file)) {
            return ids;
        }
        try {
            JsonNode eos = new ObjectMapper().readTree(file.toFile()).get("eos_token_id");
            if (eos != null && eos.isArray()) {
                eos.forEach(n -> ids.add(n.asInt()));
            } else if (eos != null && eos.canConvertToInt()) {
                ids.add(eos.asInt());
            }
        } catch (IOException e) {
            throw new ConfigException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        return ids;
    }

    /** The directory the model came from. */
    public Path dir() {
        return dir;
    }

    /** How the weights were loaded (so a training run on this base loads them alike). */
    public LoadOptions loading() {
        return loading;
    }

    /** The network. */
    public LlamaModel model() {
        return model;
    }

    /** The tokenizer. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Ids that end generation. */
    public Set<Integer> eosIds() {
        return eosIds;
    }

    /** The chat template of {@code tokenizer_config.json}, built on first use. */
    public synchronized ChatTemplate chatTemplate() {
        if (chatTemplate == null) {
            chatTemplate = ChatTemplate.load(dir);
        }
        return chatTemplate;
    }

    /** The chat template, or null when {@code tokenizer_config.json} has none. */
    public ChatTemplate chatTemplateIfAny() {
        try {
            return chatTemplate();
        } catch (ChatTemplateException e) {
            return null;
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
