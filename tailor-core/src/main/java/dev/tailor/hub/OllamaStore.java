package dev.tailor.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Ollama's local model store ({@code $OLLAMA_MODELS}, else {@code ~/.ollama/models}): a model
 * {@code [HOST/][NAMESPACE/]NAME[:TAG]} (defaults {@code registry.ollama.ai}, {@code library}, {@code latest}) has a
 * manifest at {@code manifests/HOST/NAMESPACE/NAME/TAG} whose layer of media type
 * {@code application/vnd.ollama.image.model} is the GGUF file, stored as {@code blobs/sha256-<hex>}.
 *
 * @param root the store's directory
 */
public record OllamaStore(Path root) {
    /** How a model spec names a model of the store: {@code ollama:NAME[:TAG]}. */
    public static final String PREFIX = "ollama:";
    /** The media type of the layer holding the model's GGUF file. */
    public static final String MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model";

    private static final Pattern DIGEST = Pattern.compile("sha256[:-]([0-9a-fA-F]{64})");
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    /** The store named by {@code OLLAMA_MODELS} in {@code env}, else {@code home/.ollama/models}. */
    public static OllamaStore fromEnv(Map<String, String> env, Path home) {
        return new OllamaStore(HfCache.get(env, "OLLAMA_MODELS").map(p -> HfCache.expandHome(p, home))
                .orElse(home.resolve(".ollama").resolve("models")));
    }

    /**
     * The GGUF file of a model of the store.
     *
     * @param name {@code [HOST/][NAMESPACE/]NAME[:TAG]}
     * @throws HubException saying the name is malformed, the model is not in the store (and how to pull it), or its
     *                      manifest is unreadable, has no model layer, or names a blob that is missing
     */
    public Path resolve(String name) {
        int colon = name.lastIndexOf(':');
        boolean tagged = colon > name.lastIndexOf('/');
        String model = tagged ? name.substring(0, colon) : name;
        String tag = tagged ? name.substring(colon + 1) : "latest";
        String[] parts = model.split("/", -1);
        if (parts.length > 3 || !PART.matcher(tag).matches()) {
            throw malformed(name);
        }
        for (String part : parts) {
            if (!PART.matcher(part).matches()) {
                throw malformed(name);
            }
        }
        String host = parts.length == 3 ? parts[0] : "registry.ollama.ai";
        String namespace = parts.length >= 2 ? parts[parts.length - 2] : "library";
        Path manifest = root.resolve("manifests").resolve(host).resolve(namespace).resolve(parts[parts.length - 1])
                .resolve(tag);
        JsonNode root;
        try {
            root = ManifestJson.MAPPER.readTree(Files.readAllBytes(manifest));
        } catch (NoSuchFileException e) {
            throw new HubException("\"" + PREFIX + name + "\" is not in the Ollama store " + this.root + " (no "
                    + manifest + "); download it with: ollama pull " + name);
        } catch (IOException e) {
            throw new HubException(manifest + ": cannot read the Ollama manifest: " + e.getMessage(), e);
        }
        for (JsonNode layer : root.path("layers")) {
            if (MODEL_MEDIA_TYPE.equals(layer.path("mediaType").asText())) {
                return blob(manifest, layer.path("digest").asText(""));
            }
        }
        throw new HubException(manifest + ": the Ollama manifest has no layer of media type " + MODEL_MEDIA_TYPE);
    }

    private Path blob(Path manifest, String digest) {
        var m = DIGEST.matcher(digest);
        if (!m.matches()) {
            throw new HubException(manifest + ": the model layer's digest \"" + digest + "\" is not sha256:<64 hex>");
        }
        Path blob = root.resolve("blobs").resolve("sha256-" + m.group(1));
        if (!Files.isRegularFile(blob)) {
            throw new HubException(manifest + ": the model layer's blob " + blob + " is missing");
        }
        return blob;
    }

    private static HubException malformed(String name) {
        return new HubException("\"" + PREFIX + name + "\" is not an Ollama model name of the form "
                + "[HOST/][NAMESPACE/]NAME[:TAG]");
    }

    /** The manifests' mapper, made when one is first read: resolving a model path should not load Jackson. */
    private static final class ManifestJson {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }
}
