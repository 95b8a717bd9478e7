package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.model.PretrainedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad requests are refused with the status and an OpenAI-style error naming the cause; the server keeps serving. */
class ErrorsTest {
    private static ServerFixture fixture;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        fixture = ServerFixture.start(tmp, new ServerOptions(ServerOptions.LOOPBACK, 0, 64, 4096));
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    /** Asserts the status, the error body's shape and that its message contains {@code cause}. */
    private static void refused(int status, String path, String body, String cause) throws Exception {
        HttpResponse<String> r = fixture.post(path, body);
        assertEquals(status, r.statusCode(), r.body());
        JsonNode error = ServerFixture.json(r.body()).get("error");
        assertTrue(error.get("message").asText().contains(cause), r.body());
        assertTrue(error.get("type").isTextual() && error.has("code") && error.has("param"), r.body());
    }

    @Test
    void eachBadRequestIsRefusedNamingItsCause() throws Exception {
        refused(404, "/v1/completions", "{\"model\": \"nope\", \"prompt\": \"hi\"}", "'nope'");
        refused(404, "/v1/completions", "{\"model\": \"a+nope\", \"prompt\": \"hi\"}", "\"nope\"");
        refused(404, "/v1/completions", "{\"model\": \"a+a\", \"prompt\": \"hi\"}", "twice");
        // a version of an adapter loaded by name, or of none (once a 500 from the cache looking for it)
        refused(404, "/v1/completions", "{\"model\": \"a@1\", \"prompt\": \"hi\"}", "loaded by name");
        refused(404, "/v1/completions", "{\"model\": \"nope@1\", \"prompt\": \"hi\"}", "no adapter 'nope'");
        // an unknown URL or method: OpenAI's answer, as JSON (once Helidon's plain text)
        refused(404, "/v1/nothing/here", "{}", "Invalid URL (POST /v1/nothing/here)");
        refused(404, "/v1/models", "{}", "Invalid URL (POST /v1/models)");
        // a path no file system can name (once a 500)
        refused(400, "/v1/load_lora_adapter", "{\"lora_name\": \"c\", \"lora_path\": \"x\\u0000y\"}",
                "'lora_path' is not a path");
        refused(400, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": ", "not valid JSON");
        refused(400, "/v1/completions", "[1, 2]", "must be a JSON object");
        refused(400, "/v1/completions", "{\"prompt\": \"hi\"}", "'model' is required");
        refused(400, "/v1/completions", "{\"model\": \"tiny\"}", "'prompt' is required");
        refused(400, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hi\", \"n\": 0}",
                "'n' must be in [1, 64]");
        refused(400, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hi\", \"max_tokens\": 65}",
                "'max_tokens' must be in [1, 64]");
        refused(400, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hi\", \"max_tokens\": \"many\"}",
                "'max_tokens' must be an integer");
        refused(400, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hi\", \"temperature\": -1}",
                "'temperature' must be a finite number >= 0");
        refused(400, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hi\", \"top_p\": 0}",
                "'top_p' must be in (0, 1]");
        refused(400, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hi\", \"stop\": 3}",
                "'stop' must be a string or a list of strings");
        refused(400, "/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": \"hi\"}",
                "'messages' must be a non-empty list");
        refused(400, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"" + "word ".repeat(300) + "\"}",
                "context is 256 tokens");
        refused(400, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"" + "word ".repeat(200)
                + "\", \"max_tokens\": 64}", "were requested");
        refused(413, "/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"" + "x".repeat(5000) + "\"}",
                "at most 4096 bytes");
        assertEquals(200, fixture.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hi\", \"max_tokens\": 2}")
                .statusCode(), "the server still serves");
        assertEquals(200, fixture.get("/health").statusCode());
    }

    @Test
    void chatIsRefusedForAModelWithoutTemplate() throws Exception {
        try (PretrainedModel plain = PretrainedModel.load(ServerFixture.tinyLlama());
             TailorServer server = TailorServer.start(new ServedModels(plain, "plain"), ServerOptions.defaults())) {
            HttpResponse<String> r = fixture.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                            "http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                            "{\"model\": \"plain\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, r.statusCode(), r.body());
            assertTrue(r.body().contains("has no chat template"), r.body());
        }
    }
}
