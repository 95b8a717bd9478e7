package dev.tailor.train.data;


import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The JSON Lines layouts Tailor trains on, and where the loss goes for each.
 *
 * <p>Detection ({@link #detect}) looks at one line's fields, most specific first: {@code messages} is
 * {@link #CHAT}; {@code instruction} with {@code output} is {@link #ALPACA}; {@code prompt} with
 * {@code completion} is {@link #COMPLETION}; {@code text} with {@code label} is {@link #CLASSIFICATION};
 * {@code text} alone is {@link #TEXT}. Other fields (ids, metadata) are ignored. A format chosen explicitly
 * always wins over detection.
 */
public enum DatasetFormat {
    /** {@code text}: loss on every token (continued pre-training, domain adaptation). */
    TEXT(List.of("text")),
    /** {@code prompt}, {@code completion}: loss on the completion. */
    COMPLETION(List.of("prompt", "completion")),
    /** {@code instruction}, {@code input} (may be absent or empty), {@code output}: loss on the output. */
    ALPACA(List.of("instruction", "output")),
    /** {@code messages: [{role, content}]}: loss on the assistant turns, rendered by the chat template. */
    CHAT(List.of("messages")),
    /** {@code text}, {@code label}: loss on the label, trained generatively. */
    CLASSIFICATION(List.of("text", "label"));

    private final List<String> requiredFields;

    DatasetFormat(List<String> requiredFields) {
        this.requiredFields = requiredFields;
    }

    /** The fields every line of this format must have. */
    public List<String> requiredFields() {
        return requiredFields;
    }

    /** The lower-case name users write ({@code text}, {@code completion}, …). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The format named {@code name} (case-insensitive).
     *
     * @throws IllegalArgumentException listing the known names
     */
    public static DatasetFormat parse(String name) {
        List<String> known = new ArrayList<>();
        for (DatasetFormat f : values()) {
            if (f.id().equalsIgnoreCase(name.strip())) {
                return f;
            }
            known.add(f.id());
        }
        throw new IllegalArgumentException("unknown dataset format \"" + name + "\"; expected one of " + known);
    }

    /**
     * The format a line's fields indicate, by the rule in the class comment.
     *
     * @throws DataFormatException naming the file and line when the fields fit no format
     */
    public static DatasetFormat detect(JsonLines.Line line) {
        for (DatasetFormat f : List.of(CHAT, ALPACA, COMPLETION, CLASSIFICATION, TEXT)) {
            if (f.requiredFields.stream().allMatch(line.json()::has)) {
                return f;
            }
        }
        List<String> fields = new ArrayList<>();
        line.json().fieldNames().forEachRemaining(fields::add);
        throw new DataFormatException(line.file() + ":" + line.number() + ": cannot tell the dataset format from "
                + "fields " + fields + "; expected text, prompt+completion, instruction+output, messages or "
                + "text+label");
    }
}
