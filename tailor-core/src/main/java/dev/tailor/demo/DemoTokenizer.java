package dev.tailor.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.tokenizer.WordVocabularyTrainer;
import dev.tailor.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The demo's tokenizer: bytes and the corpus's frequent words ({@link WordVocabularyTrainer}), with {@code <s>} and
 * {@code </s>} and a chat template that renders a conversation exactly as the training data's prompts read
 * ({@link SupportQuestion#prompt()}), so a chat request and a trained prompt are the same tokens.
 */
public final class DemoTokenizer {
    /** The beginning-of-sequence token. */
    public static final String BOS = "<s>";
    /** The end-of-sequence token, which ends every trained answer. */
    public static final String EOS = "</s>";
    /** Customer turns, then the assistant's, as {@code Customer: ...} and {@code Assistant: ...} lines. */
    public static final String CHAT_TEMPLATE = "{{ bos_token }}{% for message in messages %}"
            + "{% if message['role'] == 'user' %}Customer: {{ message['content'] }}\n"
            + "{% elif message['role'] == 'assistant' %}Assistant: {{ message['content'] }}{{ eos_token }}\n"
            + "{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}";

    /** How often a word must occur to be one token; rarer words are spelt byte by byte. */
    public static final int MIN_COUNT = 10;

    private DemoTokenizer() {
    }

    /**
     * Trains a tokenizer of at most {@code vocabSize} tokens on {@code texts} and writes {@code tokenizer.json} and
     * {@code tokenizer_config.json} into {@code dir}.
     *
     * @return the number of tokens in its vocabulary
     */
    public static int write(Path dir, Iterable<String> texts, int vocabSize) throws IOException {
        ObjectNode tokenizer = new WordVocabularyTrainer(vocabSize, MIN_COUNT, List.of(BOS, EOS)).train(texts);
        ObjectNode config = DemoFiles.JSON.createObjectNode();
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        config.put("bos_token", BOS);
        config.put("eos_token", EOS);
        config.put("clean_up_tokenization_spaces", false);
        config.put("model_max_length", 256);
        config.put("chat_template", CHAT_TEMPLATE);
        Files.createDirectories(dir);
        DemoFiles.writeJson(dir.resolve(Tokenizers.TOKENIZER_JSON), tokenizer);
        DemoFiles.writeJson(dir.resolve(Tokenizers.TOKENIZER_CONFIG_JSON), config);
        return tokenizer.path("model").path("vocab").size();
    }
}
