package dev.tailor.adapt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.adapt.lora.PeftLoraAdapter;
import dev.tailor.adapt.prefix.PrefixTuning;
import dev.tailor.adapt.prompt.PromptTuning;
import dev.tailor.io.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads saved adapters of any method: {@code adapter_config.json}'s {@code peft_type} chooses the reader.
 */
public final class AdapterFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

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
        return switch (type) {
            case "LORA" -> PeftLoraAdapter.loadModel(dir, config);
            case PromptTuning.TYPE -> PromptTuning.load(dir, config);
            case PrefixTuning.TYPE -> PrefixTuning.load(dir, config);
            default -> throw new IllegalArgumentException(dir.resolve("adapter_config.json") + ": peft_type \""
                    + type + "\" is not one Tailor reads (LORA, PROMPT_TUNING, PREFIX_TUNING)");
        };
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
}
