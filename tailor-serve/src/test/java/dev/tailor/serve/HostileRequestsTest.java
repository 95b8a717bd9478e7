package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hundreds of hostile bodies for the generation, vLLM, registry and tenant endpoints, drawn from a fixed seed: valid requests with one to
 * three fields replaced by a value at an edge (numbers past every limit, wrong types, nested lists and objects, long or
 * strange strings, null) or removed, and unknown fields added. Each is answered 200 (a stream then ends with
 * {@code data: [DONE]}) or 4xx with OpenAI's error body and a message; never 5xx. So is every upload of an adapter
 * archive (tar, tar under a directory, zip, gzip'd tar) cut short, with bytes flipped or a number written over its
 * headers. The server serves afterwards.
 */
class HostileRequestsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int TRIALS = 300;
    private static final int ARCHIVE_TRIALS = 150;
    private static ServerFixture fixture;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        fixture = ServerFixture.start(tmp, new ServerOptions(ServerOptions.LOOPBACK, 0, 8, 1 << 20),
                tmp.resolve("state"));
        // two versions of adapter x, for the traffic, rollback and evaluation endpoints
        for (int v = 0; v < 2; v++) {
            assertEquals(200, fixture.put("/v1/adapters/x", registration()).statusCode());
        }
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void everyHostileBodyIsServedOrRefusedWithAnErrorBody() throws Exception {
        SplittableRandom rnd = new SplittableRandom(20251202);
        List<Template> templates = new ArrayList<>(TEMPLATES);
        templates.add(new Template("PUT", "/v1/adapters/x", registration(), List.of("path", "promote", "tenant",
                "shared", "pin", "preload", "expected_version", "require_no_worse")));
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < TRIALS; i++) {
            Template t = templates.get(rnd.nextInt(templates.size()));
            ObjectNode body = (ObjectNode) JSON.readTree(t.body());
            int changes = rnd.nextInt(1, 4);
            for (int c = 0; c < changes; c++) {
                String field = t.fields().get(rnd.nextInt(t.fields().size()));
                switch (rnd.nextInt(6)) {
                    case 0 -> body.remove(field);
                    case 1 -> body.set(hostileText(rnd), hostile(rnd, 0));
                    default -> body.set(field, hostile(rnd, 0));
                }
            }
            String text = JSON.writeValueAsString(body);
            HttpResponse<String> r = fixture.send(t.method(), t.path(), text, null);
            String problem = problem(r);
            if (problem != null) {
                failures.add(t.path() + " " + text + " -> " + r.statusCode() + " " + problem + ": " + r.body());
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + TRIALS + " hostile requests broke the contract, first: "
                    + String.join("\n", failures.subList(0, Math.min(3, failures.size()))));
        }
        assertEquals(200, fixture.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"hi\", \"max_tokens\": 2}")
                .statusCode(), "the server still serves");
        assertEquals(200, fixture.get("/health").statusCode());
    }

    @Test
    void everyDamagedArchiveIsRegisteredOrRefusedWithAnErrorBody() throws Exception {
        SplittableRandom rnd = new SplittableRandom(20251203);
        List<byte[]> archives = List.of(Archives.tar(fixture.adapterA, null), Archives.tar(fixture.adapterA, "top"),
                Archives.zip(fixture.adapterA, null), Archives.gzip(Archives.tar(fixture.adapterA, null)));
        List<String> names = List.of("a.tar", "a.tar", "a.zip", "a.tar.gz");
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < ARCHIVE_TRIALS; i++) {
            int which = rnd.nextInt(archives.size());
            byte[] archive = damage(archives.get(which).clone(), rnd);
            byte[] form = Archives.form(Map.of(), names.get(which), archive);
            if (rnd.nextInt(8) == 0) {
                form = Arrays.copyOf(form, rnd.nextInt(form.length));
            }
            HttpResponse<String> r = fixture.http.send(HttpRequest.newBuilder(
                            URI.create(fixture.baseUrl() + "/v1/adapters/up")).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "multipart/form-data; boundary=" + Archives.BOUNDARY)
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(form)).build(), HttpResponse.BodyHandlers.ofString());
            String problem = problem(r);
            if (problem != null) {
                failures.add(names.get(which) + " trial " + i + " -> " + r.statusCode() + " " + problem + ": "
                        + r.body());
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + ARCHIVE_TRIALS + " damaged archives broke the contract, first: "
                    + String.join("\n", failures.subList(0, Math.min(3, failures.size()))));
        }
        assertEquals(200, fixture.get("/health").statusCode());
    }

    /** The archive with bytes flipped, a number written over some, or cut short. */
    private static byte[] damage(byte[] archive, SplittableRandom rnd) {
        switch (rnd.nextInt(3)) {
            case 0 -> {
                return Arrays.copyOf(archive, rnd.nextInt(archive.length));
            }
            case 1 -> {
                int n = rnd.nextInt(1, 6);
                for (int i = 0; i < n; i++) {
                    archive[rnd.nextInt(archive.length)] = (byte) rnd.nextInt(256);
                }
                return archive;
            }
            default -> {
                // headers sit at the start (and, in a zip, the end): aim there more often
                int at = rnd.nextBoolean() ? rnd.nextInt(Math.min(archive.length, 600))
                        : rnd.nextInt(Math.max(1, archive.length - 8));
                long value = EDGES[rnd.nextInt(EDGES.length)];
                int width = rnd.nextBoolean() ? 4 : 8;
                for (int b = 0; b < width && at + b < archive.length; b++) {
                    archive[at + b] = (byte) (value >>> (8 * b));
                }
                return archive;
            }
        }
    }

    /** What is wrong with the answer, or null. */
    private static String problem(HttpResponse<String> r) {
        int status = r.statusCode();
        if (status == 200) {
            boolean stream = r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream");
            return !stream || r.body().stripTrailing().endsWith("data: [DONE]") ? null : "a stream without [DONE]";
        }
        if (status < 400 || status >= 500) {
            return "neither 200 nor 4xx";
        }
        try {
            JsonNode error = JSON.readTree(r.body()).get("error");
            boolean shaped = error != null && error.path("message").isTextual()
                    && !error.path("message").asText().isBlank() && error.path("type").isTextual()
                    && error.has("code") && error.has("param");
            return shaped ? null : "not OpenAI's error body";
        } catch (Exception e) {
            return "an error body that is not JSON";
        }
    }

    /** A valid request to an endpoint, and the fields the trials change. */
    private record Template(String method, String path, String body, List<String> fields) {
        Template(String path, String body, List<String> fields) {
            this("POST", path, body, fields);
        }
    }

    /** A registration of adapter a's directory. */
    private static String registration() throws Exception {
        return "{\"path\": " + JSON.writeValueAsString(fixture.adapterA.toString()) + "}";
    }

    private static final List<Template> TEMPLATES = List.of(
            new Template("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"Once upon\", \"max_tokens\": 3}",
                    List.of("model", "prompt", "max_tokens", "temperature", "top_p", "top_k", "stop", "seed",
                            "logprobs", "echo", "stream", "stream_options", "presence_penalty",
                            "frequency_penalty", "repetition_penalty", "user", "n", "max_completion_tokens",
                            "ignore_eos", "min_p", "best_of", "suffix", "logit_bias")),
            new Template("/v1/completions", "{\"model\": \"a\", \"prompt\": \"hi\", \"max_tokens\": 2, "
                    + "\"stream\": true, \"stream_options\": {\"include_usage\": true}, \"logprobs\": 2}",
                    List.of("model", "prompt", "max_tokens", "stream", "stream_options", "logprobs", "seed",
                            "temperature", "stop")),
            new Template("/v1/completions", "{\"model\": \"a\", \"prompt\": [[1, 450, 6635]], \"max_tokens\": 0, "
                    + "\"echo\": true, \"logprobs\": 1, \"stream\": true}",
                    List.of("prompt", "max_tokens", "echo", "logprobs", "stream", "logit_bias", "tool_choice",
                            "functions", "presence_penalty")),
            new Template("/tokenize", "{\"model\": \"a\", \"prompt\": \"Once upon\"}",
                    List.of("model", "prompt", "add_special_tokens", "messages")),
            new Template("/detokenize", "{\"model\": \"a\", \"tokens\": [1, 450, 6635]}", List.of("model", "tokens")),
            new Template("/v1/chat/completions", "{\"model\": \"b\", \"messages\": [{\"role\": \"user\", "
                    + "\"content\": \"Hi\"}], \"max_tokens\": 2}",
                    List.of("model", "messages", "max_tokens", "max_completion_tokens", "logprobs", "top_logprobs",
                            "stream", "stream_options", "temperature", "stop", "tools", "response_format", "user",
                            "seed", "n")),
            new Template("/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"system\", "
                    + "\"content\": \"Be brief\"}, {\"role\": \"user\", \"content\": [{\"type\": \"text\", "
                    + "\"text\": \"Hi\"}]}], \"max_tokens\": 2, \"stream\": true, \"logprobs\": true, "
                    + "\"top_logprobs\": 2}",
                    List.of("messages", "max_tokens", "stream", "logprobs", "top_logprobs", "stream_options")),
            new Template("/v1/load_lora_adapter", "{\"lora_name\": \"c\", \"lora_path\": \"/nowhere\"}",
                    List.of("lora_name", "lora_path", "load_inplace")),
            new Template("/v1/unload_lora_adapter", "{\"lora_name\": \"nope\"}", List.of("lora_name", "lora_int_id")),
            new Template("/v1/adapters/x/traffic", "{\"versions\": {\"1\": 0.9, \"2\": 0.1}}",
                    List.of("versions", "expected_version")),
            new Template("/v1/adapters/x/rollback", "{}", List.of("expected_version")),
            new Template("/v1/adapters/x/versions/1/evaluate", "{\"data\": \"/nowhere.jsonl\"}",
                    List.of("data", "max_examples", "limit")),
            new Template("/v1/tenants", "{\"name\": \"t\"}", List.of("name")));

    /** A value at an edge, of any JSON type. */
    private static JsonNode hostile(SplittableRandom rnd, int depth) {
        return switch (rnd.nextInt(depth > 1 ? 9 : 11)) {
            case 0 -> NODES.numberNode(EDGES[rnd.nextInt(EDGES.length)]);
            case 1 -> NODES.numberNode(DOUBLES[rnd.nextInt(DOUBLES.length)]);
            case 2 -> NODES.numberNode(new java.math.BigInteger("18446744073709551617").shiftLeft(rnd.nextInt(64)));
            case 3, 4 -> NODES.textNode(hostileText(rnd));
            case 5 -> NODES.booleanNode(rnd.nextBoolean());
            case 6 -> NODES.nullNode();
            case 7 -> NODES.numberNode(rnd.nextInt(-3, 70));
            case 8 -> NODES.textNode(SPECIAL[rnd.nextInt(SPECIAL.length)]);
            case 9 -> {
                ArrayNode a = NODES.arrayNode();
                int n = rnd.nextInt(4);
                for (int i = 0; i < n; i++) {
                    a.add(rnd.nextBoolean() ? message(rnd, depth + 1) : hostile(rnd, depth + 1));
                }
                yield a;
            }
            default -> message(rnd, depth + 1);
        };
    }

    /** An object shaped like a chat message (or a content part), with hostile values. */
    private static ObjectNode message(SplittableRandom rnd, int depth) {
        ObjectNode o = NODES.objectNode();
        for (String key : List.of("role", "content", "type", "text", "include_usage", "name", "tool_calls")) {
            if (rnd.nextInt(3) != 0) {
                o.set(key, rnd.nextInt(3) == 0 ? NODES.textNode(SPECIAL[rnd.nextInt(SPECIAL.length)])
                        : hostile(rnd, depth + 1));
            }
        }
        return o;
    }

    private static String hostileText(SplittableRandom rnd) {
        return switch (rnd.nextInt(5)) {
            case 0 -> "a".repeat(rnd.nextInt(1, 3000));
            case 1 -> "\u0000\uD83D\uDE00\u202E<s></s>{{ x }}%s\\";
            case 2 -> "";
            case 3 -> "../../etc/passwd";
            default -> Integer.toString(rnd.nextInt());
        };
    }

    private static final long[] EDGES = {0, 1, -1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 31, 1L << 32,
            Long.MAX_VALUE, Long.MIN_VALUE, 65, 1000000};
    private static final double[] DOUBLES = {0.5, -0.5, -0.0, 1e308, -1e308, Double.MIN_VALUE, 1e-320, 2.5, 1e19,
            Double.MAX_VALUE};
    private static final String[] SPECIAL = {"user", "assistant", "system", "tool", "text", "image_url", "tiny", "a",
            "b", "a+b", "b@1", "tiny+a", "a@prod", "\n", "<|assistant|>"};
}
