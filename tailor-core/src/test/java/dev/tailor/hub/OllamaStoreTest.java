package dev.tailor.hub;

import dev.tailor.Shared;
import dev.tailor.model.LlamaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ollama:NAME[:TAG]} found in a store laid out as Ollama lays out {@code ~/.ollama/models}. */
class OllamaStoreTest {
    private static final String BLOB =
            "blobs/sha256-0e063e753693479fa488aad49f652d5af9a279f6e085db566ad1a43421864b61";

    @Test
    void storeComesFromOllamaModelsElseTheHomeDirectory() {
        Path home = Path.of("/home/u");
        assertEquals(Path.of("/data/ollama"), OllamaStore.fromEnv(Map.of("OLLAMA_MODELS", "/data/ollama"), home).root());
        assertEquals(home.resolve(".ollama/models"), OllamaStore.fromEnv(Map.of(), home).root());
    }

    @Test
    void modelResolvesToItsGgufBlobAndLoads() {
        Path store = Shared.require("models/ollama-store");
        ModelLocator locator = new ModelLocator(new HfCache(store.resolve("no-hf-cache")),
                OllamaStore.fromEnv(Map.of("OLLAMA_MODELS", store.toString()), Path.of("/nonexistent")));
        Path blob = locator.resolve("ollama:tiny");
        assertEquals(store.resolve(BLOB), blob);
        assertEquals(blob, locator.resolve("ollama:tiny:latest"));
        assertEquals(blob, locator.resolve("ollama:library/tiny:latest"));
        try (LlamaModel model = LlamaModel.load(blob)) {
            assertEquals(256, model.config().hiddenSize());
            assertTrue(model.config().tieWordEmbeddings());
        }
    }

    @Test
    void missingModelsAndMalformedManifestsAreNamed(@TempDir Path tmp) throws IOException {
        OllamaStore store = new OllamaStore(tmp);
        HubException missing = assertThrows(HubException.class, () -> store.resolve("llama3.2:1b"));
        assertTrue(missing.getMessage().contains("ollama pull llama3.2:1b"), missing.getMessage());
        assertThrows(HubException.class, () -> store.resolve("../../etc/passwd"));
        Path manifest = tmp.resolve("manifests/registry.ollama.ai/library/m/latest");
        Files.createDirectories(manifest.getParent());
        Files.writeString(manifest, "{\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\","
                + "\"digest\":\"sha256:" + "ab".repeat(32) + "\"}]}");
        HubException blob = assertThrows(HubException.class, () -> store.resolve("m"));
        assertTrue(blob.getMessage().contains("sha256-" + "ab".repeat(32) + " is missing"), blob.getMessage());
        Files.writeString(manifest, "{\"layers\":[]}");
        HubException layer = assertThrows(HubException.class, () -> store.resolve("m"));
        assertTrue(layer.getMessage().contains("no layer of media type"), layer.getMessage());
    }

    @Test
    void ggufFilesAreModelsAndOtherFilesAreNot(@TempDir Path tmp) throws IOException {
        ModelLocator locator = new ModelLocator(new HfCache(tmp.resolve("hub")));
        Path gguf = Files.write(tmp.resolve("m.gguf"), new byte[] {'G', 'G', 'U', 'F'});
        assertEquals(gguf, locator.resolve(gguf.toString()));
        Path text = Files.writeString(tmp.resolve("notes.txt"), "hello");
        HubException e = assertThrows(HubException.class, () -> locator.resolve(text.toString()));
        assertTrue(e.getMessage().contains("neither a GGUF file nor a model directory"), e.getMessage());
        HubException none = assertThrows(HubException.class, () -> locator.resolve("ollama:tiny"));
        assertTrue(none.getMessage().contains("no Ollama store"), none.getMessage());
    }
}
