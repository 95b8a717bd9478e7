package dev.tailor.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.adapt.InvalidOptionException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Hardware profiles as data: the built-in ones of {@code hardware.json} (A100-40, A100-80, H100, H200, L4, T4, with
 * their sources), a user's file of the same form adding or replacing profiles by name, and {@code this-machine},
 * measured ({@link MachineCalibration}) only when it is chosen.
 *
 * <p>The form: {@code {"profiles": [{"name", "description", "bf16_tflops", "fp32_tflops", "memory_gb",
 * "bandwidth_gb_s", "price_per_hour", "utilization", "source"}, …]}}; a user's profile may leave out
 * {@code description}, {@code source}, {@code price_per_hour} (0) and {@code utilization} (0.4).
 */
public final class HardwareProfiles {
    private static final String RESOURCE = "hardware.json";
    private static final double DEFAULT_UTILIZATION = 0.4;

    private final Map<String, HardwareProfile> byName;

    private HardwareProfiles(Map<String, HardwareProfile> byName) {
        this.byName = byName;
    }

    /** The built-in profiles. */
    public static HardwareProfiles builtIn() {
        try (InputStream in = HardwareProfiles.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the resource " + RESOURCE + " of " + HardwareProfiles.class.getPackageName()
                        + " is missing");
            }
            return new HardwareProfiles(new LinkedHashMap<>()).with(Path.of(RESOURCE), new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /**
     * These profiles with those of {@code root} (a parsed file, JSON or YAML, named {@code file} in messages) added,
     * replacing any of the same name.
     *
     * @throws IllegalArgumentException naming the file, the profile and the field that is missing or wrong
     */
    public HardwareProfiles with(Path file, JsonNode root) {
        JsonNode list = root == null ? null : root.get("profiles");
        if (list == null || !list.isArray()) {
            throw new IllegalArgumentException(file + ": expected an object with a \"profiles\" list");
        }
        Map<String, HardwareProfile> out = new LinkedHashMap<>(byName);
        for (int i = 0; i < list.size(); i++) {
            HardwareProfile p = profile(file, i, list.get(i));
            out.put(key(p.name()), p);
        }
        return new HardwareProfiles(out);
    }

    private static HardwareProfile profile(Path file, int index, JsonNode n) {
        String where = file + ": profiles[" + index + "]";
        if (n == null || !n.isObject() || !n.path("name").isTextual()) {
            throw new IllegalArgumentException(where + ": expected an object with a \"name\"");
        }
        String name = n.get("name").asText();
        double bf16 = number(where, n, "bf16_tflops", null);
        double fp32 = number(where, n, "fp32_tflops", null);
        double memory = number(where, n, "memory_gb", null) * 1e9;
        double bandwidth = number(where, n, "bandwidth_gb_s", null) * 1e9;
        double price = number(where, n, "price_per_hour", 0.0);
        double utilization = number(where, n, "utilization", DEFAULT_UTILIZATION);
        try {
            return new HardwareProfile(name, n.path("description").asText(name), bf16, fp32, (long) memory, bandwidth,
                    price, utilization, n.path("source").asText(file.toString()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static double number(String where, JsonNode n, String field, Double absent) {
        JsonNode v = n.get(field);
        if ((v == null || v.isNull()) && absent != null) {
            return absent;
        }
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException(where + " (" + n.path("name").asText() + "): " + field
                    + " must be a number, got " + (v == null ? "nothing" : v));
        }
        return v.asDouble();
    }

    /** The names of the profiles, in order, {@code this-machine} last unless a file defines it. */
    public List<String> names() {
        List<String> names = new ArrayList<>(byName.values().stream().map(HardwareProfile::name).toList());
        if (!byName.containsKey(key(MachineCalibration.NAME))) {
            names.add(MachineCalibration.NAME);
        }
        return names;
    }

    /**
     * The profile called {@code name} (any case); {@code this-machine}, unless a file defines it, comes from
     * {@code thisMachine}, asked only then.
     *
     * @throws InvalidOptionException naming {@code hardware} and the profiles there are
     */
    public HardwareProfile get(String name, Supplier<HardwareProfile> thisMachine) {
        HardwareProfile p = byName.get(key(name));
        if (p != null) {
            return p;
        }
        if (key(name).equals(key(MachineCalibration.NAME))) {
            return thisMachine.get();
        }
        throw new InvalidOptionException("hardware", "hardware must be one of " + String.join(", ", names())
                + ", got \"" + name + "\"");
    }

    private static String key(String name) {
        return name.toLowerCase(Locale.ROOT);
    }
}
