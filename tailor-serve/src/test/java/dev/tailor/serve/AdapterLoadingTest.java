package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * vLLM's {@code load_lora_adapter} and {@code unload_lora_adapter}: a round trip that {@code /v1/models} reflects,
 * in-place replacement, and bad adapters refused naming the cause while everything served stays as it was.
 */
class AdapterLoadingTest {
    private static ServerFixture fixture;
    private static Path tmp;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        tmp = dir;
        fixture = ServerFixture.start(dir, ServerOptions.defaults());
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private static List<String> served() throws Exception {
        JsonNode models = ServerFixture.json(fixture.get("/v1/models").body());
        List<String> ids = new ArrayList<>();
        models.get("data").forEach(m -> {
            ids.add(m.get("id").asText());
            if (!m.get("id").asText().equals(ServerFixture.BASE)) {
                assertEquals(ServerFixture.BASE, m.get("parent").asText(), "an adapter's parent is the base");
            }
        });
        return ids;
    }

    private static HttpResponse<String> load(String name, Path dir, boolean inPlace) throws Exception {
        return fixture.post("/v1/load_lora_adapter", """
                {"lora_name": "%s", "lora_path": "%s", "load_inplace": %s}""".formatted(name, dir, inPlace));
    }

    private static String text(String model) throws Exception {
        HttpResponse<String> r = fixture.post("/v1/completions",
                "{\"model\": \"" + model + "\", \"prompt\": \"Hello\", \"max_tokens\": 8, \"temperature\": 0}");
        assertEquals(200, r.statusCode(), r.body());
        return ServerFixture.json(r.body()).at("/choices/0/text").asText();
    }

    @Test
    void loadUnloadAndReplaceRoundTrip() throws Exception {
        assertEquals(200, load("c", fixture.adapterA, false).statusCode());
        assertEquals(List.of(ServerFixture.BASE, "a", "b", "c"), served());
        assertEquals(text("a"), text("c"), "c is a's files");

        HttpResponse<String> taken = load("c", fixture.adapterB, false);
        assertEquals(400, taken.statusCode(), taken.body());
        assertTrue(taken.body().contains("has already been loaded"), taken.body());
        assertEquals(200, load("c", fixture.adapterB, true).statusCode());
        assertEquals(text("b"), text("c"), "in place, c is b's files now");
        assertNotEquals(text("a"), text("c"));

        assertEquals(200, fixture.post("/v1/unload_lora_adapter", "{\"lora_name\": \"c\"}").statusCode());
        assertEquals(List.of(ServerFixture.BASE, "a", "b"), served());
        assertEquals(404, fixture.post("/v1/completions", "{\"model\": \"c\", \"prompt\": \"Hello\"}").statusCode());
        assertEquals(404, fixture.post("/v1/unload_lora_adapter", "{\"lora_name\": \"c\"}").statusCode());
    }

    @Test
    void badAdaptersAreRefusedNamingTheCauseAndNothingChanges() throws Exception {
        String before = text("a");
        ObjectMapper json = new ObjectMapper();

        Path corrupt = copy(fixture.adapterA, "corrupt");
        Files.write(corrupt.resolve("adapter_model.safetensors"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Path otherBase = tmp.resolve("other-base");
        ServerFixture.saveLora(fixture.pretrained, otherBase, List.of("q_proj"), 3, "sha256:another-base");
        Path wrongShape = copy(fixture.adapterA, "wrong-shape");
        ObjectNode config = (ObjectNode) json.readTree(wrongShape.resolve("adapter_config.json").toFile());
        json.writeValue(wrongShape.resolve("adapter_config.json").toFile(), config.put("r", 8));
        Path unknownMethod = copy(fixture.adapterA, "unknown-method");
        json.writeValue(unknownMethod.resolve("adapter_config.json").toFile(),
                config.put("r", 4).put("peft_type", "NO_SUCH_METHOD"));

        for (Path bad : List.of(corrupt, otherBase, wrongShape, unknownMethod, tmp.resolve("missing"))) {
            for (boolean inPlace : new boolean[] {false, true}) {
                HttpResponse<String> r = load(inPlace ? "a" : "bad", bad, inPlace);
                assertEquals(400, r.statusCode(), bad + ": " + r.body());
                assertTrue(ServerFixture.json(r.body()).at("/error/message").asText().contains(bad.toString()),
                        r.body());
            }
        }
        assertTrue(load("bad", otherBase, false).body().contains("sha256:another-base"), "names the other base");
        assertEquals(List.of(ServerFixture.BASE, "a", "b"), served());
        assertEquals(before, text("a"), "a is untouched");
    }

    @Test
    void withoutAStateDirectoryThereIsNoRegistry() throws Exception {
        HttpResponse<String> r = fixture.get("/v1/adapters");
        assertEquals(404, r.statusCode(), r.body());
        assertTrue(r.body().contains("--state"), r.body());
        assertEquals(404, fixture.put("/v1/adapters/c", "{\"path\": \"" + fixture.adapterA + "\"}").statusCode());
    }

    private static Path copy(Path from, String name) throws Exception {
        Path to = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }
}
