package dev.tailor.adapt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.io.AtomicFiles;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.io.TensorFormatException;
import dev.tailor.io.TensorInfo;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import dev.tailor.io.PythonJson;
import dev.tailor.tensor.Parameter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Saved adapters of any method: reading (the registered method of {@code adapter_config.json}'s {@code peft_type}
 * reads it) and the pieces every method's files share.
 */
public final class AdapterFiles {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(AdapterFiles.class.getName());
    private static final Set<String> COMMON_KEYS = Set.of("auto_mapping", "base_model_name_or_path", "inference_mode",
            "peft_type", "peft_version", "revision", "task_type");
    private AdapterFiles() {
    }

    /**
     * Loads the adapter in {@code dir}.
     *
     * @throws IllegalArgumentException naming the file when the config is missing, malformed or of a type Tailor
     *                                  does not read
     */
    public static Adapter load(Path dir) {
        JsonNode config = config(dir);
        String type = config.path("peft_type").asText("");
        AdapterMethod method = AdapterMethods.byPeftType(type);
        if (method == null) {
            throw new IllegalArgumentException(dir.resolve("adapter_config.json") + ": peft_type \"" + type
                    + "\" is not one Tailor reads (" + String.join(", ", AdapterMethods.peftTypes()) + ")");
        }
        List<String> unknown = unknownKeys(type, config);
        if (!unknown.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, dir.resolve("adapter_config.json") + ": ignoring keys Tailor does "
                    + "not know for " + type + ": " + String.join(", ", unknown));
        }
        return method.load(dir, config);
    }

    /**
     * The keys of an {@code adapter_config.json} of {@code type} that Tailor neither reads nor knows to be safe to
     * ignore, sorted; loading warns about them instead of failing (a newer PEFT may add options).
     */
    public static List<String> unknownKeys(String type, JsonNode config) {
        AdapterMethod method = AdapterMethods.byPeftType(type);
        Set<String> known = method == null ? Set.of() : method.configKeys();
        List<String> unknown = new ArrayList<>();
        config.fieldNames().forEachRemaining(k -> {
            if (!COMMON_KEYS.contains(k) && !known.contains(k)) {
                unknown.add(k);
            }
        });
        Collections.sort(unknown);
        return unknown;
    }

    /** The parsed {@code adapter_config.json} of {@code dir}. */
    public static JsonNode config(Path dir) {
        Path file = dir.resolve("adapter_config.json");
        try {
            JsonNode node = JSON.readTree(Files.readAllBytes(file));
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(file + ": not a JSON object");
            }
            return node;
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(dir + " is not an adapter directory: it has no adapter_config.json", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the adapter config: " + e.getMessage(), e);
        }
    }

    /** The base fingerprint recorded in {@code dir}'s {@code adapter_model.safetensors}, or null. */
    public static String baseFingerprint(Path dir) {
        try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            return file.metadata().get("tailor.base_fingerprint");
        }
    }

    /**
     * Writes an adapter directory: {@code adapter_config.json} from {@code config} (keys sorted, indented by 2, as
     * Python's {@code json.dumps(..., indent=2, sort_keys=True)}) and {@code adapter_model.safetensors} with the
     * tensors as float32 under their names, the base's fingerprint (may be null) in the metadata
     * ({@code tailor.base_fingerprint}). Both files are written atomically.
     */
    public static void write(Path dir, Map<String, Object> config, List<Parameter> tensors, String baseFingerprint) {
        SafetensorsWriter writer = new SafetensorsWriter();
        metadata(baseFingerprint).forEach(writer::metadata);
        for (Parameter p : tensors) {
            writer.add(p.name(), DType.F32, p.shape(), p.data());
        }
        try {
            Files.createDirectories(dir);
            writer.write(dir.resolve("adapter_model.safetensors"));
            byte[] bytes = configJson(config);
            AtomicFiles.write(dir.resolve("adapter_config.json"), ch -> ch.write(ByteBuffer.wrap(bytes)));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot save the adapter: " + e.getMessage(), e);
        }
    }

    /**
     * The bytes {@link #write} writes for an adapter with {@code config} and float32 tensors of these names and
     * {@code shapes}, worked out without their values: both files, the fingerprint (may be null) included.
     */
    public static long savedBytes(Map<String, Object> config, Map<String, long[]> shapes, String baseFingerprint) {
        List<SafetensorsWriter.Planned> tensors = new ArrayList<>();
        shapes.forEach((name, shape) -> tensors.add(new SafetensorsWriter.Planned(name, DType.F32, shape)));
        return SafetensorsWriter.fileSize(metadata(baseFingerprint), tensors) + configJson(config).length;
    }

    /** The safetensors metadata of a saved adapter. */
    private static Map<String, String> metadata(String baseFingerprint) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        if (baseFingerprint != null) {
            metadata.put("tailor.base_fingerprint", baseFingerprint);
        }
        return metadata;
    }

    /** {@code adapter_config.json}'s bytes: keys sorted, indented by 2, as Python's {@code json.dumps}. */
    private static byte[] configJson(Map<String, Object> config) {
        return PythonJson.of(false, 2, null, true).dumps(config).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Refuses the tensors of {@code file} that are not in {@code read}: the config ({@code accountedBy} says which
     * of its keys decide the tensors) does not account for them, and loading would drop them silently.
     *
     * @throws TensorFormatException naming the file, the tensors and the keys
     */
    public static void checkNoOtherTensors(SafetensorsFile file, Set<String> read, String accountedBy) {
        List<String> other = file.names().stream().filter(n -> !read.contains(n)).sorted().toList();
        if (!other.isEmpty()) {
            throw new TensorFormatException(file.path() + ": " + other.size() + " tensor(s) that adapter_config.json ("
                    + accountedBy + ") does not account for: " + String.join(", ",
                    other.subList(0, Math.min(8, other.size()))) + (other.size() > 8 ? ", …" : ""));
        }
    }

    /**
     * A float32 copy of the tensor {@code name} of {@code file}, as a parameter of that name.
     *
     * @throws TensorFormatException naming the file and tensor when it is not a float tensor of {@code rank}
     *                               dimensions, or when a value is NaN or infinite (naming the element)
     */
    public static Parameter readParameter(SafetensorsFile file, String name, int rank) {
        TensorInfo info = file.info(name);
        if (info.shape().length != rank || !info.dtype().isWeightType()) {
            throw new TensorFormatException(file.path() + ": " + name + " must be a " + rank
                    + "-D float tensor, is " + info.dtype() + info.shapeString());
        }
        var data = file.data(name);
        float[] values = new float[Math.toIntExact(info.elementCount())];
        for (int i = 0; i < values.length; i++) {
            values[i] = Numerics.load(data, info.dtype(), i);
            if (!Float.isFinite(values[i])) {
                throw new TensorFormatException(file.path() + ": tensor " + name + " has a non-finite value ("
                        + values[i] + ") at element " + i);
            }
        }
        return new Parameter(name, info.shape(), values);
    }
}
