package dev.tailor.adapt;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The registered {@link AdapterMethod}s, in the order of their registration: how loading finds the reader of a
 * {@code peft_type}, the command line its {@code --method} names and options, and benchmarks and tests the list of
 * methods.
 */
public final class AdapterMethods {
    private static final List<AdapterMethod> ALL = load();

    private AdapterMethods() {
    }

    /** Every registered method. */
    public static List<AdapterMethod> all() {
        return ALL;
    }

    /** Every method's names ({@code lora}, {@code dora}, {@code ia3} …), in order. */
    public static List<String> names() {
        return ALL.stream().flatMap(m -> m.names().stream()).toList();
    }

    /**
     * The method chosen by {@code name}.
     *
     * @throws InvalidOptionException naming {@code method} and listing the names when none has it
     */
    public static AdapterMethod byName(String name) {
        for (AdapterMethod m : ALL) {
            if (m.names().contains(name)) {
                return m;
            }
        }
        throw new InvalidOptionException("method", "method must be one of " + String.join(", ", names()) + ", got \""
                + name + "\"");
    }

    /** The method whose adapters are saved as {@code peftType}, or null. */
    public static AdapterMethod byPeftType(String peftType) {
        for (AdapterMethod m : ALL) {
            if (m.peftType().equals(peftType)) {
                return m;
            }
        }
        return null;
    }

    /** Every saved type Tailor reads, in order. */
    public static List<String> peftTypes() {
        return ALL.stream().map(AdapterMethod::peftType).toList();
    }

    /**
     * Every method's options, one per name (methods sharing a name share the option), in order of first mention.
     *
     * @throws IllegalStateException when two methods declare an option of the same name but another kind
     */
    public static List<MethodOption> options() {
        Map<String, MethodOption> byName = new HashMap<>();
        List<MethodOption> out = new ArrayList<>();
        for (AdapterMethod m : ALL) {
            for (MethodOption o : m.options()) {
                MethodOption earlier = byName.putIfAbsent(o.name(), o);
                if (earlier == null) {
                    out.add(o);
                } else if (earlier.kind() != o.kind()) {
                    throw new IllegalStateException("option " + o.name() + " is a " + earlier.kind() + " in one method "
                            + "and a " + o.kind() + " in " + m.names());
                }
            }
        }
        return List.copyOf(out);
    }

    private static List<AdapterMethod> load() {
        List<AdapterMethod> methods = new ArrayList<>();
        ServiceLoader.load(AdapterMethod.class, AdapterMethods.class.getClassLoader()).forEach(methods::add);
        Map<String, AdapterMethod> seen = new HashMap<>();
        for (AdapterMethod m : methods) {
            for (String n : m.names()) {
                if (seen.put(n, m) != null) {
                    throw new IllegalStateException("two adapter methods are named " + n);
                }
            }
            if (seen.put("peft_type:" + m.peftType(), m) != null) {
                throw new IllegalStateException("two adapter methods save as " + m.peftType());
            }
        }
        return List.copyOf(methods);
    }
}
