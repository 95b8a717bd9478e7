package dev.tailor.adapt.lora;

/**
 * PEFT's {@code bias} option of {@code LoraConfig}: which base biases train along with the adapter. The trained
 * biases are saved in {@code adapter_model.safetensors} and replace the base's when the adapter is applied.
 */
public enum LoraBias {
    /** No bias trains ({@code "none"}, the default). */
    NONE("none"),
    /** The biases of the targeted linears train ({@code "lora_only"}). */
    LORA_ONLY("lora_only"),
    /** Every bias of the model trains ({@code "all"}). */
    ALL("all");

    private final String key;

    LoraBias(String key) {
        this.key = key;
    }

    /** The value as written in {@code adapter_config.json}. */
    public String key() {
        return key;
    }

    /**
     * The option named {@code value}.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static LoraBias parse(String value) {
        for (LoraBias b : values()) {
            if (b.key.equals(value)) {
                return b;
            }
        }
        throw new IllegalArgumentException("bias must be none, lora_only or all, got \"" + value + "\"");
    }
}
