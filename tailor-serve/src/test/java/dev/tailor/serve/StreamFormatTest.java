package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Server-sent events as OpenAI sends them: {@code data: } lines, {@code data: [DONE]} last, usage when asked. */
class StreamFormatTest {
    private static ServerFixture fixture;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        fixture = ServerFixture.start(tmp, ServerOptions.defaults());
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    /** The events of a stream, checking every non-blank line is {@code data: …} and the last is {@code [DONE]}. */
    private static List<JsonNode> events(String path, String body) throws Exception {
        HttpResponse<String> r = fixture.post(path, body);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> lines = r.body().lines().filter(l -> !l.isBlank()).toList();
        assertTrue(lines.stream().allMatch(l -> l.startsWith("data: ")), r.body());
        assertEquals("data: [DONE]", lines.getLast());
        List<JsonNode> events = new ArrayList<>();
        for (String line : lines.subList(0, lines.size() - 1)) {
            events.add(ServerFixture.json(line.substring("data: ".length())));
        }
        return events;
    }

    @Test
    void completionChunksThenFinishThenUsage() throws Exception {
        String whole = ServerFixture.json(fixture.post("/v1/completions",
                "{\"model\": \"a\", \"prompt\": \"Hello\", \"max_tokens\": 10, \"temperature\": 0}").body())
                .at("/choices/0/text").asText();
        List<JsonNode> events = events("/v1/completions", "{\"model\": \"a\", \"prompt\": \"Hello\", \"max_tokens\": "
                + "10, \"temperature\": 0, \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        StringBuilder text = new StringBuilder();
        events.forEach(e -> e.get("choices").forEach(c -> text.append(c.get("text").asText())));
        assertEquals(whole, text.toString());
        JsonNode finish = events.get(events.size() - 2);
        assertEquals("length", finish.at("/choices/0/finish_reason").asText());
        JsonNode usage = events.getLast();
        assertEquals(0, usage.get("choices").size());
        assertEquals(10, usage.at("/usage/completion_tokens").asInt());
        assertTrue(events.stream().allMatch(e -> e.get("object").asText().equals("text_completion")
                && e.get("id").asText().equals(usage.get("id").asText())));
    }

    @Test
    void chatChunksStartWithTheRoleAndHaveNoUsageUnlessAsked() throws Exception {
        List<JsonNode> events = events("/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": "
                + "\"user\", \"content\": \"Hi\"}], \"max_tokens\": 5, \"stream\": true, \"temperature\": 0}");
        assertEquals("assistant", events.getFirst().at("/choices/0/delta/role").asText());
        assertTrue(events.stream().allMatch(e -> e.get("object").asText().equals("chat.completion.chunk")
                && e.get("usage").isNull()));
        assertEquals("length", events.getLast().at("/choices/0/finish_reason").asText());
    }
}
