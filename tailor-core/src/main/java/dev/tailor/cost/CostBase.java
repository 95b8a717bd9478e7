package dev.tailor.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.io.gguf.GgufFile;
import dev.tailor.model.ConfigException;
import dev.tailor.model.ModelConfig;
import dev.tailor.train.ModelExport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The base model a cost is worked out for; only its config is needed, so an 8B or 70B model need not be on disk.
 *
 * @param config       its architecture
 * @param configJson   its {@code config.json} as read: what a fine-tuned model's {@code config.json} is written from
 * @param name         how adapters record it ({@code base_model_name_or_path}), or null
 * @param tokenizerDir the directory of the tokenizer files a fine-tuned model copies, or null when there is none
 */
public record CostBase(ModelConfig config, ObjectNode configJson, String name, Path tokenizerDir) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The base at {@code path}: a model directory (its {@code config.json}; its tokenizer files count in a fine-tuned
     * model's size), a GGUF file (the config its metadata describes) or a bare {@code config.json}.
     *
     * @param name how adapters would record it, or null for the path
     * @throws ConfigException naming the file and the field that is missing, wrong or unsupported
     */
    public static CostBase read(Path path, String name) {
        if (GgufFile.isGguf(path)) {
            ObjectNode json = ModelConfig.json(path);
            return new CostBase(ModelConfig.parse(path, json), json, name != null ? name : path.toString(), null);
        }
        boolean dir = Files.isDirectory(path);
        Path file = dir ? path.resolve("config.json") : path;
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": not found" + (dir ? " (a model directory needs config.json)" : ""));
        } catch (IOException e) {
            throw new ConfigException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        ModelConfig config = ModelConfig.parse(file, root);
        return new CostBase(config, (ObjectNode) root, name != null ? name : path.toString(), dir ? path : null);
    }

    /** The precision of its weights as its {@code torch_dtype} says (float32 when absent). */
    public Precision dtype() {
        return Precision.of(ModelExport.fromTorchName(configJson.path("torch_dtype").asText(null)));
    }

    /** Its parameters: every tensor's values, a tied head once. */
    public long parameters() {
        return BaseTensors.parameters(config);
    }
}
