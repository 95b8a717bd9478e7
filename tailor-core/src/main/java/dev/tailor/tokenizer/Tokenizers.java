package dev.tailor.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.gguf.GgufFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Loads tokenizers from a model directory ({@code tokenizer.json} and, if present, {@code tokenizer_config.json}), or
 * from a GGUF file's metadata.
 */
public final class Tokenizers {
    /** The file name of the tokenizer definition. */
    public static final String TOKENIZER_JSON = "tokenizer.json";
    /** The file name of the tokenizer settings written by {@code transformers}. */
    public static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";

    private Tokenizers() {
    }

    /**
     * Loads the tokenizer of a model directory.
     *
     * @throws TokenizerException if {@code tokenizer.json} is missing or malformed, or the config names a token
     *                            the vocabulary does not have; the message names the file and field
     */
    public static BpeTokenizer load(Path dir) {
        if (GgufFile.isGguf(dir)) {
            return loadGguf(dir);
        }
        Path file = dir.resolve(TOKENIZER_JSON);
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(file + ": not found (a tokenizer directory must hold " + TOKENIZER_JSON + ")");
        }
        JsonNode root;
        try {
            root = DefinitionJson.MAPPER.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new TokenizerException(file + ": expected a JSON object");
        }
        Path configFile = dir.resolve(TOKENIZER_CONFIG_JSON);
        return build(new TokenizerJson(file), root, TokenizerConfig.read(configFile, DefinitionJson.MAPPER),
                configFile);
    }

    /**
     * The tokenizer of a GGUF file, built from its {@code tokenizer.ggml.*} metadata as the model's own
     * {@code tokenizer.json} would build it ({@link GgufVocabulary}).
     *
     * @throws TokenizerException naming the file and the key that is missing or unsupported
     */
    private static BpeTokenizer loadGguf(Path path) {
        try (GgufFile file = GgufFile.open(path)) {
            GgufVocabulary.Built built = GgufVocabulary.build(file);
            return build(new TokenizerJson(path), built.tokenizerJson(), built.config(), path);
        } catch (TensorFormatException e) {
            throw new TokenizerException(e.getMessage(), e);
        }
    }

    private static BpeTokenizer build(TokenizerJson reader, JsonNode root, TokenizerConfig config, Path configFile) {
        BpeModel model = reader.model(root);
        List<AddedToken> added = reader.addedTokens(root);
        TextNormalizer normalizer = reader.normalizer(root.get("normalizer"), "normalizer");
        PreTokenizer preTokenizer = reader.preTokenizer(root.get("pre_tokenizer"), "pre_tokenizer", model);
        TokenDecoder decoder = reader.decoder(root.get("decoder"));
        int[][] specials = reader.postProcessor(root.get("post_processor"), "post_processor",
                TokenizerJson.idBound(root));
        boolean byteLevel = decoder.byteLevel() || usesByteLevel(preTokenizer);
        int bos = idOf(config.bosToken(), "bos_token", model.vocab(), added, configFile);
        int eos = idOf(config.eosToken(), "eos_token", model.vocab(), added, configFile);
        int pad = idOf(config.padToken(), "pad_token", model.vocab(), added, configFile);
        if (!byteLevel && (config.addBosToken() != null || config.addEosToken() != null)) {
            specials = new int[][] {
                    configuredSpecial(config.addBosToken(), bos, "add_bos_token", "bos_token", configFile),
                    configuredSpecial(config.addEosToken(), eos, "add_eos_token", "eos_token", configFile)};
        }
        return new BpeTokenizer(new BpeTokenizer.Parts(model, added, normalizer, preTokenizer, decoder,
                specials[0], specials[1], byteLevel, bos, eos >= 0 ? List.of(eos) : List.of(), pad));
    }

    private static int[] configuredSpecial(Boolean add, int id, String flag, String token, Path configFile) {
        if (add == null || !add) {
            return new int[0];
        }
        if (id < 0) {
            throw new TokenizerException(configFile + ": field " + flag + " is true but " + token + " is not set");
        }
        return new int[] {id};
    }

    private static boolean usesByteLevel(PreTokenizer pre) {
        return switch (pre) {
            case PreTokenizer.ByteLevel b -> true;
            case PreTokenizer.Sequence s -> s.steps().stream().anyMatch(Tokenizers::usesByteLevel);
            case PreTokenizer.Split s -> false;
            case PreTokenizer.Metaspace m -> false;
            case PreTokenizer.Whole w -> false;
        };
    }

    private static int idOf(String token, String field, Map<String, Integer> vocab, List<AddedToken> added,
                            Path configFile) {
        if (token == null) {
            return -1;
        }
        for (AddedToken t : added) {
            if (t.content().equals(token)) {
                return t.id();
            }
        }
        Integer id = vocab.get(token);
        if (id == null) {
            throw new TokenizerException(configFile + ": field " + field + ": token '" + token
                    + "' is neither in added_tokens nor in model.vocab of " + TOKENIZER_JSON);
        }
        return id;
    }

    /**
     * The mapper for {@code tokenizer.json}, its strings of any length, made when one is first read: a GGUF model's
     * tokenizer comes from its metadata, without Jackson.
     */
    private static final class DefinitionJson {
        static final ObjectMapper MAPPER = new ObjectMapper();

        static {
            MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength(Integer.MAX_VALUE).build());
        }
    }
}
