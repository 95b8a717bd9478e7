package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile input to the fine-tuning API, drawn from a fixed seed: job requests whose fields (nested ones included) are
 * replaced by values at an edge, uploads of damaged JSON Lines under odd names and purposes, and ids and page
 * parameters of every shape in the paths. Each is answered 2xx or 4xx with OpenAI's error body, never 5xx; the API
 * serves afterwards. (A request that happens to be valid makes a job; the limit of two at a time refuses the rest.)
 */
class HostileJobsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int TRIALS = 250;
    private static final long[] EDGES = {0, 1, -1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 31, 1L << 32,
            Long.MAX_VALUE, Long.MIN_VALUE, 100000};
    private static final String[] TEXTS = {"", "lora", "ia3", "full", "supervised", "dpo", "tiny", "auto",
            "../../x", "a+b", "file-0", "ftjob-0", "\u0000", "x".repeat(300), "\uD83D\uDE00", "fine-tune"};
    private static final List<String> FIELDS = List.of("model", "training_file", "validation_file", "suffix", "seed",
            "method", "hyperparameters", "adapter", "rollout", "training", "integrations", "metadata");
    private static final List<String> NESTED = List.of("type", "n_epochs", "batch_size", "learning_rate_multiplier",
            "method", "r", "rank", "alpha", "lora_alpha", "target_modules", "canary", "promote", "seq_len", "steps",
            "supervised", "hyperparameters");
    private static JobsFixture f;
    private static String key;
    private static String training;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        f = JobsFixture.start(tmp, null, new JobLimits(64 * 1024, 2, 20_000));
        key = f.tenant("hostile");
        training = f.file("t.jsonl", FineTuningApiTest.support(0, 4), key);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void everyHostileJobFileAndPathIsAnsweredOrRefusedWithAnErrorBody() throws Exception {
        SplittableRandom rnd = new SplittableRandom(20251204);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < TRIALS; i++) {
            String what;
            HttpResponse<String> r;
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    ObjectNode job = JSON.createObjectNode().put("model", "tiny").put("training_file", training);
                    int changes = rnd.nextInt(1, 4);
                    for (int c = 0; c < changes; c++) {
                        String field = FIELDS.get(rnd.nextInt(FIELDS.size()));
                        if (rnd.nextInt(5) == 0) {
                            job.remove(field);
                        } else {
                            job.set(field, rnd.nextBoolean() ? nested(rnd) : value(rnd));
                        }
                    }
                    what = "job " + job;
                    r = f.send("POST", "/v1/fine_tuning/jobs", JSON.writeValueAsString(job), key);
                }
                case 1 -> {
                    String lines = damaged(FineTuningApiTest.support(0, 3), rnd);
                    String name = TEXTS[rnd.nextInt(TEXTS.length)].replace("\"", "") + ".jsonl";
                    String purpose = rnd.nextInt(3) == 0 ? TEXTS[rnd.nextInt(TEXTS.length)] : "fine-tune";
                    what = "upload " + name + " (" + purpose + "): " + lines;
                    r = f.upload(name, lines, purpose, key);
                }
                default -> {
                    String id = URLEncoder.encode(TEXTS[rnd.nextInt(TEXTS.length)], StandardCharsets.UTF_8);
                    String page = "?limit=" + EDGES[rnd.nextInt(EDGES.length)] + "&after=" + id;
                    String path = switch (rnd.nextInt(6)) {
                        case 0 -> "/v1/fine_tuning/jobs/" + id;
                        case 1 -> "/v1/fine_tuning/jobs/" + id + "/events" + page;
                        case 2 -> "/v1/fine_tuning/jobs/" + id + "/checkpoints" + page;
                        case 3 -> "/v1/fine_tuning/jobs" + page;
                        case 4 -> "/v1/files/" + id + "/content";
                        default -> "/v1/files/" + id;
                    };
                    String method = path.endsWith("/content") || path.contains("?") || rnd.nextBoolean() ? "GET"
                            : rnd.nextBoolean() ? "DELETE" : "POST";
                    what = method + " " + path;
                    r = f.send(method, path, null, key);
                }
            }
            String problem = problem(r);
            if (problem != null) {
                failures.add(what + " -> " + r.statusCode() + " " + problem + ": " + r.body());
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + TRIALS + " hostile requests broke the contract, first: "
                    + String.join("\n", failures.subList(0, Math.min(3, failures.size()))));
        }
        assertEquals(200, f.send("GET", "/v1/fine_tuning/jobs", null, key).statusCode(), "the API still serves");
    }

    @Test
    void anUploadKeepsTheLastComponentOfItsNameWithoutControlCharacters() {
        // once a 500: the name was parsed as a path, and a NUL names none
        assertEquals("t.jsonl", FileStore.baseName("C:\\data\\t.jsonl"));
        assertEquals("t.jsonl", FileStore.baseName("../../t.jsonl"));
        assertEquals("x.jsonl", FileStore.baseName("\u0000x\n.jsonl"));
        assertEquals("upload.jsonl", FileStore.baseName("dir/"));
        assertEquals("upload.jsonl", FileStore.baseName("\u0000"));
        assertEquals("upload.jsonl", FileStore.baseName(null));
        assertEquals("\uD83D\uDE00.jsonl", FileStore.baseName("\uD83D\uDE00.jsonl"));
    }

    /** What is wrong with the answer, or null. */
    private static String problem(HttpResponse<String> r) {
        int status = r.statusCode();
        if (status >= 200 && status < 300) {
            return null;
        }
        if (status < 400 || status >= 500) {
            return "neither 2xx nor 4xx";
        }
        try {
            JsonNode error = JSON.readTree(r.body()).get("error");
            boolean shaped = error != null && error.path("message").isTextual()
                    && !error.path("message").asText().isBlank() && error.path("type").isTextual();
            return shaped ? null : "not OpenAI's error body";
        } catch (Exception e) {
            return "an error body that is not JSON";
        }
    }

    /** An object of the nested sections' fields, each at an edge. */
    private static ObjectNode nested(SplittableRandom rnd) {
        ObjectNode o = NODES.objectNode();
        int n = rnd.nextInt(1, 4);
        for (int i = 0; i < n; i++) {
            String field = NESTED.get(rnd.nextInt(NESTED.size()));
            o.set(field, rnd.nextInt(4) == 0 ? nestedLeaf(rnd) : value(rnd));
        }
        return o;
    }

    private static JsonNode nestedLeaf(SplittableRandom rnd) {
        ObjectNode o = NODES.objectNode();
        o.set(NESTED.get(rnd.nextInt(NESTED.size())), value(rnd));
        return o;
    }

    private static JsonNode value(SplittableRandom rnd) {
        return switch (rnd.nextInt(7)) {
            case 0 -> NODES.numberNode(EDGES[rnd.nextInt(EDGES.length)]);
            case 1 -> NODES.numberNode(new double[] {0.5, -0.5, 1e308, -0.0, 1e-320, 2.5}[rnd.nextInt(6)]);
            case 2, 3 -> NODES.textNode(TEXTS[rnd.nextInt(TEXTS.length)]);
            case 4 -> NODES.booleanNode(rnd.nextBoolean());
            case 5 -> NODES.nullNode();
            default -> NODES.arrayNode().add(TEXTS[rnd.nextInt(TEXTS.length)]).add(EDGES[rnd.nextInt(EDGES.length)]);
        };
    }

    /** JSON Lines cut short, with a byte replaced, or a line of another shape added. */
    private static String damaged(String lines, SplittableRandom rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> lines.substring(0, rnd.nextInt(lines.length()));
            case 1 -> {
                char[] c = lines.toCharArray();
                String swaps = "{}[]\":,\n\u0000x";
                c[rnd.nextInt(c.length)] = swaps.charAt(rnd.nextInt(swaps.length()));
                yield new String(c);
            }
            case 2 -> lines + "{\"messages\": " + value(rnd) + "}\n";
            default -> lines + value(rnd) + "\n";
        };
    }
}
