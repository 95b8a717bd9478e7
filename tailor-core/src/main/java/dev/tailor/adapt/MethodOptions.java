package dev.tailor.adapt;

import java.util.Locale;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;

/**
 * The values given for a method's {@link MethodOption options}, each read as its kind with the option's default
 * when it was not given.
 */
public final class MethodOptions {
    private final Map<String, MethodOption> declared;
    private final SequencedMap<String, List<String>> given;

    private MethodOptions(Map<String, MethodOption> declared, SequencedMap<String, List<String>> given) {
        this.declared = declared;
        this.given = given;
    }

    /**
     * The values {@code given} (per option name, its texts: one for a single value, the items of a list,
     * {@code "true"} for a switch that is on) of options {@code declared}.
     *
     * @throws InvalidOptionException naming an option that is not declared or whose value is not of its kind
     */
    public static MethodOptions of(List<MethodOption> declared, Map<String, List<String>> given) {
        Map<String, MethodOption> byName = new LinkedHashMap<>();
        declared.forEach(o -> byName.put(o.name(), o));
        SequencedMap<String, List<String>> values = new TreeMap<>();
        given.forEach((name, texts) -> {
            MethodOption option = byName.get(name);
            if (option == null) {
                throw new InvalidOptionException(name, name + " is not an option of this method (it takes "
                        + String.join(", ", byName.keySet()) + ")");
            }
            List<String> copy = List.copyOf(texts);
            if (option.kind() != MethodOption.Kind.LIST && copy.size() != 1) {
                throw new InvalidOptionException(name, name + " takes one value, got " + copy);
            }
            values.put(name, copy);
        });
        MethodOptions options = new MethodOptions(byName, Collections.unmodifiableSequencedMap(values));
        byName.values().forEach(options::check);
        return options;
    }

    /** No options given: every option at its default. */
    public static MethodOptions defaults(List<MethodOption> declared) {
        return of(declared, Map.of());
    }

    /** The values given, by option name in name order (not the defaults). */
    public SequencedMap<String, List<String>> given() {
        return given;
    }

    /** Whether {@code name} was given. */
    public boolean has(String name) {
        return given.containsKey(declared(name).name());
    }

    /** A whole-number option; null when neither given nor defaulted. */
    public Integer integer(String name) {
        String text = text(name);
        if (text == null) {
            return null;
        }
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new InvalidOptionException(name, name + " must be a whole number, got \"" + text + "\"");
        }
    }

    /**
     * A numeric option; null when neither given nor defaulted.
     *
     * @throws InvalidOptionException naming the option when its text is not a number or not a finite one
     *                                ({@code NaN}, {@code Infinity}, {@code 1e999})
     */
    public Double decimal(String name) {
        String text = text(name);
        if (text == null) {
            return null;
        }
        double value;
        try {
            value = Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            throw new InvalidOptionException(name, name + " must be a number, got \"" + text + "\"");
        }
        if (!Double.isFinite(value)) {
            throw new InvalidOptionException(name, name + " must be a finite number, got \"" + text + "\"");
        }
        return value;
    }

    /** A {@code true}/{@code false} option or a switch; false when neither given nor defaulted. */
    public boolean bool(String name) {
        String text = text(name);
        if (text == null) {
            return false;
        }
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidOptionException(name, name + " must be true or false, got \"" + text + "\"");
        };
    }

    /** The option's text (a single value); null when neither given nor defaulted. */
    public String text(String name) {
        MethodOption option = declared(name);
        List<String> values = given.get(name);
        if (values == null) {
            return option.defaultValue();
        }
        return option.kind() == MethodOption.Kind.LIST ? String.join(",", values) : values.getFirst();
    }

    /** A list option's items (comma-separated texts split); null when neither given nor defaulted. */
    public List<String> list(String name) {
        MethodOption option = declared(name);
        List<String> values = given.get(name);
        if (values == null) {
            return option.defaultValue() == null ? null : split(option.defaultValue());
        }
        List<String> items = new ArrayList<>();
        values.forEach(v -> items.addAll(split(v)));
        return List.copyOf(items);
    }

    private static List<String> split(String text) {
        return List.of(text.split(",", -1));
    }

    private MethodOption declared(String name) {
        MethodOption option = declared.get(name);
        if (option == null) {
            throw new IllegalArgumentException("no option " + name + " is declared");
        }
        return option;
    }

    private void check(MethodOption option) {
        switch (option.kind()) {
            case INT -> integer(option.name());
            case DECIMAL -> decimal(option.name());
            case BOOLEAN, FLAG -> bool(option.name());
            case TEXT, LIST -> {
            }
        }
    }
}
