package dev.tailor.adapt.lora;

/** How TIES elects the sign of each entry across task tensors: PEFT's {@code majority_sign_method}. */
public enum MajoritySignMethod {
    /** The sign of the sum of the values. */
    TOTAL,
    /** The sign held by more tensors (the sum of the signs). */
    FREQUENCY;

    /**
     * Parses PEFT's name ({@code total} or {@code frequency}).
     *
     * @throws IllegalArgumentException naming the value otherwise
     */
    public static MajoritySignMethod parse(String name) {
        return switch (name) {
            case "total" -> TOTAL;
            case "frequency" -> FREQUENCY;
            default -> throw new IllegalArgumentException("unknown majority sign method \"" + name
                    + "\" (expected total or frequency)");
        };
    }
}
