package dev.tailor.adapt.prompt;

/** PEFT's {@code prompt_tuning_init}: how the virtual token embeddings start. */
public enum PromptTuningInit {
    /** {@code torch.nn.Embedding}'s default: each value drawn from N(0, 1). */
    RANDOM,
    /** The embeddings of the tokenized {@code prompt_tuning_init_text}, repeated or cut to the virtual tokens. */
    TEXT;

    /**
     * Parses a config or flag value.
     *
     * @throws IllegalArgumentException listing the values when it is none of them
     */
    public static PromptTuningInit parse(String value) {
        for (PromptTuningInit v : values()) {
            if (v.name().equalsIgnoreCase(value)) {
                return v;
            }
        }
        throw new IllegalArgumentException("prompt_tuning_init must be RANDOM or TEXT, got " + value);
    }
}
