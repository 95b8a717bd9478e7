package dev.tailor.adapt.lora;

/**
 * PEFT's {@code init_lora_weights} for new adapters: B starts at zero either way (the adapter starts as the
 * identity); A is drawn as below.
 */
public enum LoraInit {
    /** {@code true}: A Kaiming-uniform with {@code a = sqrt(5)}, i.e. {@code U(−1/sqrt(in), 1/sqrt(in))}. */
    KAIMING_UNIFORM,
    /** {@code "gaussian"}: A ~ N(0, σ = 1/r). */
    GAUSSIAN;

    /** The value as written in {@code adapter_config.json}: {@code true} or {@code "gaussian"}. */
    public Object json() {
        return switch (this) {
            case KAIMING_UNIFORM -> Boolean.TRUE;
            case GAUSSIAN -> "gaussian";
        };
    }

    /**
     * The option for a command-line or config value: {@code true} or {@code gaussian}.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static LoraInit parse(String value) {
        return switch (value) {
            case "true" -> KAIMING_UNIFORM;
            case "gaussian" -> GAUSSIAN;
            default -> throw new IllegalArgumentException("init_lora_weights must be true or gaussian, got \""
                    + value + "\"");
        };
    }
}
