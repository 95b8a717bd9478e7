package dev.tailor.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.AtomicFiles;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.model.LlamaWeights;
import dev.tailor.model.NamedTensors;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.WeightMatrix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a Hugging Face model directory that {@code tailor generate} (and transformers) load: {@code config.json},
 * {@code model.safetensors} and the tokenizer files copied from the base. Every file is written atomically.
 */
public final class ModelExport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "tokenizer.model", "special_tokens_map.json", "generation_config.json", "chat_template.jinja");

    private ModelExport() {
    }

    /**
     * Saves the model.
     *
     * @param dir          the output directory (created)
     * @param config       the base's {@code config.json}; {@code torch_dtype} is set to what is written
     * @param weights      the weights to write
     * @param dtype        the type to store every float tensor in, or null to keep each tensor's own type
     * @param tokenizerDir where the tokenizer files come from (null: none)
     */
    public static void save(Path dir, ObjectNode config, LlamaWeights weights, DType dtype, Path tokenizerDir) {
        try {
            Files.createDirectories(dir);
            SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
            DType written = null;
            for (Map.Entry<String, Object> e : NamedTensors.of(weights).entrySet()) {
                written = add(writer, e.getKey(), e.getValue(), dtype);
            }
            writer.write(dir.resolve("model.safetensors"));
            byte[] json = configJson(config, dtype != null ? dtype : written);
            AtomicFiles.write(dir.resolve("config.json"), ch -> ch.write(ByteBuffer.wrap(json)));
            if (tokenizerDir != null && !tokenizerDir.toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize())) {
                for (String name : TOKENIZER_FILES) {
                    Path src = tokenizerDir.resolve(name);
                    if (Files.isRegularFile(src)) {
                        byte[] bytes = Files.readAllBytes(src);
                        AtomicFiles.write(dir.resolve(name), ch -> ch.write(ByteBuffer.wrap(bytes)));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot save the model: " + e.getMessage(), e);
        }
    }

    /**
     * The bytes {@link #save} writes for a model of {@code config} whose tensors have these names and {@code shapes},
     * every tensor stored as {@code dtype}, worked out without their values: {@code model.safetensors},
     * {@code config.json} and the tokenizer files of {@code tokenizerDir} (may be null) it copies.
     */
    public static long savedBytes(ObjectNode config, Map<String, long[]> shapes, DType dtype, Path tokenizerDir) {
        List<SafetensorsWriter.Planned> tensors = new ArrayList<>();
        shapes.forEach((name, shape) -> tensors.add(new SafetensorsWriter.Planned(name, dtype, shape)));
        try {
            long bytes = SafetensorsWriter.fileSize(Map.of("format", "pt"), tensors) + configJson(config, dtype).length;
            return bytes + tokenizerBytes(tokenizerDir);
        } catch (IOException e) {
            throw new UncheckedIOException(tokenizerDir + ": " + e.getMessage(), e);
        }
    }

    /** The bytes of the tokenizer files of {@code dir} (may be null) that {@link #save} copies. */
    public static long tokenizerBytes(Path dir) throws IOException {
        long bytes = 0;
        if (dir != null) {
            for (String name : TOKENIZER_FILES) {
                Path src = dir.resolve(name);
                if (Files.isRegularFile(src)) {
                    bytes += Files.size(src);
                }
            }
        }
        return bytes;
    }

    /** The saved {@code config.json}: the base's with {@code torch_dtype} set to what is written. */
    private static byte[] configJson(ObjectNode config, DType written) throws IOException {
        ObjectNode out = config.deepCopy();
        out.put("torch_dtype", torchName(written));
        return JSON.writeValueAsBytes(out);
    }

    private static DType add(SafetensorsWriter writer, String name, Object tensor, DType dtype) {
        if (tensor instanceof float[] v) {
            DType t = dtype != null ? dtype : DType.F32;
            writer.add(name, t, new long[] {v.length}, v);
            return t;
        }
        WeightMatrix w = (WeightMatrix) tensor;
        long[] shape = {w.rows(), w.cols()};
        if (dtype == null && w.dtype().isQuantized()) {
            dtype = DType.F32;
        }
        if (dtype == null || dtype == w.dtype()) {
            writer.add(name, w.dtype(), shape, w.data());
            return w.dtype();
        }
        float[] values = new float[Math.toIntExact((long) w.rows() * w.cols())];
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, values, r * w.cols());
        }
        writer.add(name, dtype, shape, values);
        return dtype;
    }

    /** The {@code torch_dtype} name of a type. */
    static String torchName(DType t) {
        return switch (t) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> throw new IllegalArgumentException("not a weight type: " + t);
        };
    }

    /** The type named by {@code torch_dtype} ({@code float32} …), or F32 when absent or unknown. */
    public static DType fromTorchName(String name) {
        return switch (name == null ? "" : name) {
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            default -> DType.F32;
        };
    }
}
