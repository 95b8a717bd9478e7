package dev.tailor.adapt;

/**
 * One option an adapter method takes when a fresh adapter is made, named as the method's config key in PEFT or
 * AdapterHub ({@code r}, {@code lora_alpha}, {@code target_modules}); a command line spells it
 * {@link #flag() --lora-alpha}. Options of the same name in several methods mean the same thing and have the same
 * kind.
 *
 * @param name         the config-style name, snake case
 * @param kind         how its value is written
 * @param defaultValue the value when it is not given, as text; null when there is none or it depends on other
 *                     options (the description then says what it is)
 * @param description  one line for people, the default included when it is not {@code defaultValue}
 */
public record MethodOption(String name, Kind kind, String defaultValue, String description) {

    /** How an option's value is written. */
    public enum Kind {
        /** A whole number. */
        INT,
        /** A number. */
        DECIMAL,
        /** Any text, such as a name from a fixed set that the method checks. */
        TEXT,
        /** {@code true} or {@code false}, written out. */
        BOOLEAN,
        /** A switch: present means true. */
        FLAG,
        /** A list of texts, comma-separated or repeated. */
        LIST
    }

    /** Checks the name. */
    public MethodOption {
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("an option name is snake case, got \"" + name + "\"");
        }
    }

    /** An option without a default. */
    public static MethodOption of(String name, Kind kind, String description) {
        return new MethodOption(name, kind, null, description);
    }

    /** The command-line spelling: {@code --} and the name with dashes for underscores. */
    public String flag() {
        return flag(name);
    }

    /** The command-line spelling of the option {@code name}. */
    public static String flag(String name) {
        return "--" + name.replace('_', '-');
    }
}
