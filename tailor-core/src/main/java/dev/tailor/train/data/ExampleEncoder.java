package dev.tailor.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * Turns one dataset line into an {@link Example} (ids and loss labels), by format:
 * <ul>
 * <li>{@code text}: {@code encode(text, addSpecial=true)} (BOS as the tokenizer config says), every token
 * labelled. No EOS is appended: continued pre-training text is usually a piece of a longer stream.</li>
 * <li>{@code completion}: {@code encode(prompt, true)} unlabelled, then {@code encode(completion, false)} and the
 * tokenizer's first EOS id, labelled, so the model learns to stop after the answer. The two parts are encoded
 * separately and concatenated, so the boundary between prompt and answer is always a token boundary.</li>
 * <li>{@code alpaca}: the Stanford Alpaca prompt ({@link #alpacaPrompt}) as the prompt, {@code output} as the
 * completion.</li>
 * <li>{@code chat}: see {@link ChatEncoder} (loss on assistant turns, ended by the template's end-of-turn
 * token; no extra EOS).</li>
 * <li>{@code classification}: {@link #classificationPrompt} ({@code text + "\nLabel: "}) as the prompt, the
 * label as the completion (with EOS, which also tells {@code spam} from a longer label starting with it).</li>
 * </ul>
 * Empty answers ({@code completion}, {@code output}, {@code label}) and empty {@code text} are data errors: they
 * would train nothing.
 */
public final class ExampleEncoder {
    private final Tokenizer tokenizer;
    private final DatasetFormat format;
    private final ChatEncoder chat;
    private final int eosId;

    /**
     * An encoder for one format.
     *
     * @param chatTemplate the model's template; required for {@link DatasetFormat#CHAT}, else ignored (may be null)
     * @throws IllegalArgumentException when the format needs an EOS id or a chat template the model lacks
     */
    public ExampleEncoder(Tokenizer tokenizer, ChatTemplate chatTemplate, DatasetFormat format) {
        this.tokenizer = tokenizer;
        this.format = format;
        this.eosId = tokenizer.eosIds().isEmpty() ? -1 : tokenizer.eosIds().getFirst();
        if (format != DatasetFormat.TEXT && format != DatasetFormat.CHAT && eosId < 0) {
            throw new IllegalArgumentException("the " + format.id() + " format appends EOS after the answer, but "
                    + "the tokenizer has no eos_token");
        }
        if (format == DatasetFormat.CHAT && chatTemplate == null) {
            throw new IllegalArgumentException("the chat format needs the model's chat template, and this model "
                    + "has none (no chat_template in tokenizer_config.json or chat_template.jinja)");
        }
        this.chat = format == DatasetFormat.CHAT ? new ChatEncoder(tokenizer, chatTemplate) : null;
    }

    /** The format this encoder reads. */
    public DatasetFormat format() {
        return format;
    }

    /**
     * Encodes one line of the dataset.
     *
     * @throws DataFormatException naming the file, line and field when a field is missing, not a string or empty
     */
    public Example encode(JsonLines.Line line) {
        String source = line.file() + ":" + line.number();
        return switch (format) {
            case TEXT -> text(nonEmpty(line, "text"), source);
            case COMPLETION -> promptCompletion(line.requireText("prompt"), nonEmpty(line, "completion"), source);
            case ALPACA -> promptCompletion(alpacaPrompt(line.requireText("instruction"), optionalText(line, "input")),
                    nonEmpty(line, "output"), source);
            case CHAT -> chat.encode(line);
            case CLASSIFICATION -> promptCompletion(classificationPrompt(line.requireText("text")),
                    nonEmpty(line, "label"), source);
        };
    }

    /** A {@code text} example: BOS (if the tokenizer adds one) and the text, all labelled. */
    public Example text(String text, String source) {
        int[] ids = tokenizer.encode(text, true);
        return new Example(ids, ids.clone(), source);
    }

    /** Prompt (with the tokenizer's special prefix, unlabelled), then completion and EOS (labelled). */
    public Example promptCompletion(String prompt, String completion, String source) {
        int[] promptIds = tokenizer.encode(prompt, true);
        int[] answer = completionIds(completion);
        int[] ids = Arrays.copyOf(promptIds, promptIds.length + answer.length);
        System.arraycopy(answer, 0, ids, promptIds.length, answer.length);
        int[] labels = ids.clone();
        Arrays.fill(labels, 0, promptIds.length, CausalLmLoss.IGNORE_INDEX);
        return new Example(ids, labels, source);
    }

    /** The ids a completion is trained as: {@code encode(completion, false)} followed by EOS. */
    public int[] completionIds(String completion) {
        int[] ids = tokenizer.encode(completion, false);
        int[] withEos = Arrays.copyOf(ids, ids.length + 1);
        withEos[ids.length] = eosId;
        return withEos;
    }

    /** The ids of a classification prompt for {@code text}, as in training (with the special prefix). */
    public int[] classificationPromptIds(String text) {
        return tokenizer.encode(classificationPrompt(text), true);
    }

    /**
     * The Stanford Alpaca prompt (github.com/tatsu-lab/stanford_alpaca, {@code PROMPT_DICT}): the
     * {@code prompt_input} form when {@code input} is non-empty, else {@code prompt_no_input}.
     */
    public static String alpacaPrompt(String instruction, String input) {
        if (input == null || input.isEmpty()) {
            return "Below is an instruction that describes a task. Write a response that appropriately completes "
                    + "the request.\n\n### Instruction:\n" + instruction + "\n\n### Response:\n";
        }
        return "Below is an instruction that describes a task, paired with an input that provides further context. "
                + "Write a response that appropriately completes the request.\n\n### Instruction:\n" + instruction
                + "\n\n### Input:\n" + input + "\n\n### Response:\n";
    }

    /** The prompt a classification example is trained and scored with: {@code text + "\nLabel: "}. */
    public static String classificationPrompt(String text) {
        return text + "\nLabel: ";
    }

    private static String nonEmpty(JsonLines.Line line, String field) {
        String value = line.requireText(field);
        if (value.isEmpty()) {
            throw new DataFormatException(line.file() + ":" + line.number() + ": field \"" + field
                    + "\" is empty; it must hold the text to train on");
        }
        return value;
    }

    /** A string field that may be absent or null (read as empty), but not another type. */
    private static String optionalText(JsonLines.Line line, String field) {
        JsonNode n = line.json().get(field);
        return n == null || n.isNull() ? "" : line.requireText(field);
    }
}
