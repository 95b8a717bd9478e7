package dev.tailor.adapt;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Typed reads of an {@code adapter_config.json}: a key of the wrong JSON type is an error naming the file and the
 * key, never read as a default (as Jackson's {@code asInt()} reads {@code "four"} as 0). A missing or null key gives
 * the default the caller passes.
 *
 * @param file   the config file, for messages
 * @param config its parsed object
 */
public record AdapterConfigFields(Path file, JsonNode config) {
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)layers\\.(\\d+)\\.");

    /** The fields of {@code dir/adapter_config.json}, parsed as {@code config}. */
    public static AdapterConfigFields of(Path dir, JsonNode config) {
        return new AdapterConfigFields(dir.resolve("adapter_config.json"), config);
    }

    /**
     * The fields of {@code dir/adapter_config.json}, parsed as {@code config}, whose {@code peft_type} must be
     * {@code type}.
     *
     * @throws IllegalArgumentException naming the file and both types when it is another
     */
    public static AdapterConfigFields ofType(Path dir, JsonNode config, String type) {
        AdapterConfigFields fields = of(dir, config);
        String saved = config.path("peft_type").asText("");
        if (!saved.equals(type)) {
            throw new IllegalArgumentException(fields.file() + ": peft_type \"" + saved + "\" is not " + type);
        }
        return fields;
    }

    /** An error naming the file and {@code key}: {@code <file>: <key> <problem>}. */
    public IllegalArgumentException error(String key, String problem) {
        return new IllegalArgumentException(file + ": " + key + " " + problem);
    }

    /** Whether {@code key} is present and not null. */
    public boolean has(String key) {
        return config.hasNonNull(key);
    }

    /** An int JSON number ≥ {@code min}, or {@code absent}. */
    public int integer(String key, int min, int absent) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) {
            return absent;
        }
        return integer(key, n, min);
    }

    /** A finite JSON number, or {@code absent}. */
    public double number(String key, double absent) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) {
            return absent;
        }
        return number(key, n);
    }

    /** true or false, or {@code absent}. */
    public boolean bool(String key, boolean absent) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) {
            return absent;
        }
        if (!n.isBoolean()) {
            throw error(key, "must be true or false, got " + n);
        }
        return n.booleanValue();
    }

    /** A string, or {@code absent}. */
    public String string(String key, String absent) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) {
            return absent;
        }
        if (!n.isTextual()) {
            throw error(key, "must be a string, got " + n);
        }
        return n.textValue();
    }

    /** An array of strings (non-empty if {@code nonEmpty}), or null when missing or null. */
    public List<String> strings(String key, boolean nonEmpty) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) {
            return null;
        }
        String expected = "must be a " + (nonEmpty ? "non-empty " : "") + "list of strings, got " + n;
        if (!n.isArray() || (nonEmpty && n.isEmpty())) {
            throw error(key, expected);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : n) {
            if (!s.isTextual()) {
                throw error(key, expected);
            }
            out.add(s.textValue());
        }
        return out;
    }

    /**
     * Refuses a {@code target_modules} that does not select every module the file has tensors for, or has an entry
     * that selects none of them, as PEFT's {@code check_target_module_exists} selects: a string is
     * {@code all-linear} or a regular expression matching whole module names; a list entry is a whole name or the
     * part after a dot, in a layer of {@code layers} (null: any) unless it is a whole name. Without
     * {@code target_modules} there is nothing to check.
     *
     * @param modules the modules the file has tensors for, e.g. {@code model.layers.0.self_attn.q_proj}
     * @param weights the file, for messages
     * @param layers  {@code layers_to_transform}, or null
     */
    public void checkTargets(Collection<String> modules, Path weights, List<Integer> layers) {
        if (!has("target_modules")) {
            return;
        }
        String what = ", which " + weights + " has tensors for";
        if (config.get("target_modules").isTextual()) {
            String regex = string("target_modules", null);
            if (regex.equals("all-linear")) {
                return;
            }
            Pattern p;
            try {
                p = Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw error("target_modules", "is not a valid regular expression: " + e.getDescription());
            }
            for (String module : modules) {
                if (!p.matcher(module).matches()) {
                    throw error("target_modules", "\"" + regex + "\" does not match " + module + what);
                }
            }
            return;
        }
        List<String> targets = strings("target_modules", true);
        for (String module : modules) {
            boolean named = targets.contains(module) || targets.contains("all-linear");
            if (!named && targets.stream().noneMatch(t -> module.endsWith("." + t))) {
                throw error("target_modules", targets + " does not select " + module + what);
            }
            Matcher layer = LAYER.matcher(module);
            if (!named && layers != null && layer.find() && !layers.contains(Integer.parseInt(layer.group(1)))) {
                throw error("layers_to_transform", layers + " does not include layer " + layer.group(1) + " of "
                        + module + what);
            }
        }
        for (String t : targets) {
            if (!t.equals("all-linear") && modules.stream().noneMatch(m -> m.equals(t) || m.endsWith("." + t))) {
                throw error("target_modules", "entry \"" + t + "\" selects none of the modules " + weights
                        + " has tensors for (" + modules.iterator().next() + " …)");
            }
        }
    }

    /** An int ≥ {@code min} or a list of them, or null when missing or null. */
    public List<Integer> integers(String key, int min) {
        JsonNode n = config.get(key);
        if (n == null || n.isNull()) {
            return null;
        }
        List<Integer> out = new ArrayList<>();
        if (!n.isArray()) {
            out.add(integer(key, n, min));
            return out;
        }
        for (int i = 0; i < n.size(); i++) {
            out.add(integer(key + "[" + i + "]", n.get(i), min));
        }
        return out;
    }

    /**
     * An object of positive ints by regular expression ({@code rank_pattern}), in the file's order; empty when missing
     * or null.
     */
    public Map<String, Integer> integerMap(String key, int min) {
        return map(key, (k, v) -> integer(patternKey(key, k), v, min));
    }

    /**
     * An object of finite numbers by regular expression ({@code alpha_pattern}), in the file's order; empty when
     * missing or null.
     */
    public Map<String, Double> numberMap(String key) {
        return map(key, (k, v) -> number(patternKey(key, k), v));
    }

    /** How entry {@code k} of the map {@code key} is named, once {@code k} is checked to be a regular expression. */
    private String patternKey(String key, String k) {
        String name = key + "[\"" + k + "\"]";
        try {
            Pattern.compile(k);
        } catch (PatternSyntaxException e) {
            throw error(name, "is not a regular expression: " + e.getDescription());
        }
        return name;
    }

    private <V> Map<String, V> map(String key, BiFunction<String, JsonNode, V> value) {
        JsonNode n = config.get(key);
        Map<String, V> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isObject()) {
            throw error(key, "must be an object, got " + n);
        }
        n.properties().forEach(e -> out.put(e.getKey(), value.apply(e.getKey(), e.getValue())));
        return out;
    }

    private int integer(String name, JsonNode n, int min) {
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < min) {
            throw error(name, "must be an integer ≥ " + min + ", got " + n);
        }
        return n.intValue();
    }

    private double number(String name, JsonNode n) {
        if (!n.isNumber() || !Double.isFinite(n.doubleValue())) {
            throw error(name, "must be a finite number, got " + n);
        }
        return n.doubleValue();
    }
}
