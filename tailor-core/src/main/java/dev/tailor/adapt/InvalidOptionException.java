package dev.tailor.adapt;

/**
 * An option of a method or a training run has a value that cannot be used. The message names options as the engine
 * does ({@code lora_alpha}, snake case, as config keys); a command line shows them as its flags
 * ({@code --lora-alpha}).
 */
public final class InvalidOptionException extends IllegalArgumentException {
    private final String option;

    /**
     * @param option  the option whose value is wrong, snake case
     * @param message what is wrong, naming {@code option} (and any other option involved) by its name
     */
    public InvalidOptionException(String option, String message) {
        super(message);
        this.option = option;
    }

    /** As {@link #InvalidOptionException(String, String)}, caused by {@code cause}. */
    public InvalidOptionException(String option, String message, Throwable cause) {
        super(message, cause);
        this.option = option;
    }

    /** The option whose value is wrong. */
    public String option() {
        return option;
    }
}
