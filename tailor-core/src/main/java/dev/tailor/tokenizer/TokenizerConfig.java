package dev.tailor.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The fields of {@code tokenizer_config.json} that tokenization needs. Token fields may be written as a string
 * or as an object with {@code content}; absent fields are null.
 *
 * @param addBosToken {@code add_bos_token}, or null if absent
 * @param addEosToken {@code add_eos_token}, or null if absent
 * @param bosToken    {@code bos_token}
 * @param eosToken    {@code eos_token}
 * @param padToken    {@code pad_token}
 */
record TokenizerConfig(Boolean addBosToken, Boolean addEosToken, String bosToken, String eosToken, String padToken) {

    /** A config with nothing set, for a directory without {@code tokenizer_config.json}. */
    static final TokenizerConfig EMPTY = new TokenizerConfig(null, null, null, null, null);

    /** Reads {@code file}, or returns {@link #EMPTY} if it does not exist. */
    static TokenizerConfig read(Path file, ObjectMapper json) {
        if (!Files.exists(file)) {
            return EMPTY;
        }
        JsonNode root;
        try {
            root = json.readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new TokenizerException(file + ": expected a JSON object");
        }
        return new TokenizerConfig(flag(root, "add_bos_token", file), flag(root, "add_eos_token", file),
                token(root, "bos_token", file), token(root, "eos_token", file), token(root, "pad_token", file));
    }

    private static Boolean flag(JsonNode root, String field, Path file) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isBoolean()) {
            throw new TokenizerException(file + ": field " + field + " must be true or false, got " + node);
        }
        return node.booleanValue();
    }

    private static String token(JsonNode root, String field, Path file) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isObject() && node.path("content").isTextual()) {
            return node.get("content").textValue();
        }
        throw new TokenizerException(file + ": field " + field
                + " must be a string or an object with \"content\", got " + node);
    }
}
