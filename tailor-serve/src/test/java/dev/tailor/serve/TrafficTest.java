package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.train.Evaluator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Canary alias, traffic splits sticky per {@code user}, evaluate-before-promote, compare-and-set on every change,
 * all durable across a restart; changes while requests stream lose none, and each output is one version's. In
 * SQLite here; {@link PostgresTrafficTest} runs the same on PostgreSQL.
 */
class TrafficTest {
    private static final String PROMPT = "Hello";
    private static final int MAX_TOKENS = 6;

    @TempDir
    Path tmp;

    /** The registry database's JDBC URL, or null for SQLite in the state directory. */
    String database() {
        return null;
    }

    private ServerFixture start(String dir, Path state) throws Exception {
        return ServerFixture.start(tmp.resolve(dir), ServerOptions.defaults(), state, database(), Access.open(),
                ServedModels.DEFAULT_ADAPTER_CACHE_BYTES);
    }

    private static HttpResponse<String> completion(ServerFixture f, String model, String user, boolean stream)
            throws Exception {
        return f.post("/v1/completions", "{\"model\": \"" + model + "\", \"prompt\": \"" + PROMPT
                + "\", \"max_tokens\": " + MAX_TOKENS + ", \"temperature\": 0"
                + (user == null ? "" : ", \"user\": \"" + user + "\"") + (stream ? ", \"stream\": true" : "") + "}");
    }

    private static String text(ServerFixture f, String model, String user) throws Exception {
        HttpResponse<String> r = completion(f, model, user, false);
        assertEquals(200, r.statusCode(), r.body());
        return ServerFixture.json(r.body()).at("/choices/0/text").asText();
    }

    /** The text of a streamed completion, its pieces joined; fails unless it ends with [DONE]. */
    private static String streamed(ServerFixture f, String model, String user) throws Exception {
        HttpResponse<String> r = completion(f, model, user, true);
        assertEquals(200, r.statusCode(), r.body());
        StringBuilder text = new StringBuilder();
        boolean done = false;
        for (String line : r.body().split("\n")) {
            if (line.equals("data: [DONE]")) {
                done = true;
            } else if (line.startsWith("data: ")) {
                JsonNode chunk = ServerFixture.json(line.substring(6));
                assertTrue(chunk.get("error") == null, line);
                if (chunk.get("choices").size() > 0) {
                    text.append(chunk.at("/choices/0/text").asText());
                }
            }
        }
        assertTrue(done, r.body());
        return text.toString();
    }

    private static String error(HttpResponse<String> r) throws Exception {
        return ServerFixture.json(r.body()).at("/error/message").asText();
    }

    private static HttpResponse<String> traffic(ServerFixture f, String body) throws Exception {
        return f.post("/v1/adapters/reg/traffic", body);
    }

    private static HttpResponse<String> alias(ServerFixture f, String alias, String body) throws Exception {
        return f.post("/v1/adapters/reg/aliases/" + alias, body);
    }

    private static HttpResponse<String> delete(ServerFixture f, String path, String body) throws Exception {
        return f.http.send(HttpRequest.newBuilder(URI.create(f.baseUrl() + path)).timeout(Duration.ofSeconds(30))
                .method("DELETE", HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Registers a (v1) and b (v2, prod) as {@code reg}. */
    private static void registerBoth(ServerFixture f) throws Exception {
        assertEquals(200, f.put("/v1/adapters/reg", "{\"path\": \"" + f.adapterA + "\"}").statusCode());
        assertEquals(200, f.put("/v1/adapters/reg", "{\"path\": \"" + f.adapterB + "\"}").statusCode());
    }

    private static List<String> users(int n) {
        List<String> users = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            users.add("user-" + i);
        }
        return users;
    }

    private Path data() throws Exception {
        Path data = tmp.resolve("eval.jsonl");
        Files.writeString(data, """
                {"text": "Hello world, this is a small evaluation set."}
                {"text": "The quick brown fox jumps over the lazy dog."}
                {"text": "Once upon a time there was a tiny model."}
                """);
        return data;
    }

    @Test
    void aSplitIsStickyPerUserVersionsBypassItAndBadSplitsAreRefused() throws Exception {
        try (ServerFixture f = start("server", tmp.resolve("state"))) {
            registerBoth(f);
            String textA = text(f, "reg@1", null);
            String textB = text(f, "reg@2", null);
            assertNotEquals(textA, textB);

            HttpResponse<String> split = traffic(f, "{\"versions\": {\"1\": 0.5, \"2\": 0.5}, \"expected_version\": 0}");
            assertEquals(200, split.statusCode(), split.body());
            assertEquals(1, ServerFixture.json(split.body()).at("/traffic/revision").asInt(), split.body());
            Set<String> seen = new HashSet<>();
            for (String user : users(16)) {
                String expected = ServedModels.point(user, "reg") < 0.5 ? textA : textB;
                String got = text(f, "reg", user);
                assertEquals(expected, got, user);
                assertEquals(got, text(f, "reg", user), "the same user gets the same version");
                seen.add(got);
            }
            assertEquals(Set.of(textA, textB), seen, "both versions serve");
            String userOfB = users(16).stream().filter(u -> ServedModels.point(u, "reg") >= 0.5).findFirst()
                    .orElseThrow();
            assertEquals(textA, text(f, "reg@1", userOfB), "name@n ignores the split");

            for (String bad : List.of("{\"versions\": {\"1\": -0.1, \"2\": 1}}", "{\"versions\": {\"1\": 0, \"2\": 0}}",
                    "{\"versions\": {\"1\": 0.5, \"9\": 0.5}}", "{\"versions\": {\"x\": 1}}",
                    "{\"versions\": {\"1\": \"half\"}}", "{\"versions\": [1, 2]}", "{}")) {
                HttpResponse<String> r = traffic(f, bad);
                assertEquals(400, r.statusCode(), bad + ": " + r.body());
            }
            assertTrue(error(traffic(f, "{\"versions\": {\"1\": 0.5, \"9\": 0.5}}")).contains("no version 9"));
            HttpResponse<String> stale = traffic(f, "{\"versions\": {\"1\": 1}, \"expected_version\": 0}");
            assertEquals(409, stale.statusCode(), stale.body());
            assertTrue(error(stale).contains("revision 1"), stale.body());

            HttpResponse<String> allToA = traffic(f, "{\"versions\": {\"1\": 1, \"2\": 0}, \"expected_version\": 1}");
            assertEquals(200, allToA.statusCode(), allToA.body());
            assertEquals(textA, text(f, "reg", userOfB), "a weight of 0 gets nothing");
            assertEquals(409, delete(f, "/v1/adapters/reg/traffic", "{\"expected_version\": 1}").statusCode());
            HttpResponse<String> cleared = delete(f, "/v1/adapters/reg/traffic", "{\"expected_version\": 2}");
            assertEquals(200, cleared.statusCode(), cleared.body());
            assertEquals(textB, text(f, "reg", "anyone"), "without a split prod serves the name");
            assertEquals(200, traffic(f, "{\"versions\": {\"1\": 1}}").statusCode());
            assertEquals(200, traffic(f, "{\"versions\": {}}").statusCode(), "{} clears too");
            assertEquals(textB, text(f, "reg", "anyone"));
        }
    }

    @Test
    void evaluationsGatePromotionAndSplitCanaryAndEvaluationsSurviveARestart() throws Exception {
        Path state = tmp.resolve("state");
        Path data = data();
        double lossA;
        double lossB;
        String userOfA = null;
        try (ServerFixture f = start("first", state)) {
            registerBoth(f);
            HttpResponse<String> canary = alias(f, "canary", "{\"version\": 1, \"expected_version\": 0}");
            assertEquals(200, canary.statusCode(), canary.body());
            HttpResponse<String> staleCanary = alias(f, "canary", "{\"version\": 2, \"expected_version\": 0}");
            assertEquals(409, staleCanary.statusCode(), staleCanary.body());
            assertTrue(error(staleCanary).contains("expected_version is 0") && error(staleCanary).contains("version 1"));
            assertEquals(400, alias(f, "canary", "{\"version\": 7}").statusCode());
            assertEquals(400, alias(f, "bad.alias", "{\"version\": 1}").statusCode());

            HttpResponse<String> evA = f.post("/v1/adapters/reg/versions/1/evaluate", "{\"data\": \"" + data + "\"}");
            assertEquals(200, evA.statusCode(), evA.body());
            Evaluator.Result direct = new Evaluator(f.server.models().resolve("reg@1"), f.pretrained.tokenizer(),
                    f.pretrained.chatTemplateIfAny()).evaluate(data, null, false);
            JsonNode a = ServerFixture.json(evA.body());
            assertEquals(1, a.get("version").asInt());
            assertEquals(direct.loss(), a.get("loss").asDouble(), 1e-12, evA.body());
            assertEquals(direct.perplexity(), a.get("perplexity").asDouble(), 1e-9, evA.body());
            assertEquals(direct.tokens(), a.get("tokens").asLong());
            assertTrue(a.get("accuracy").isNull(), "no accuracy for text data");
            lossA = a.get("loss").asDouble();
            HttpResponse<String> evB = f.post("/v1/adapters/reg/versions/2/evaluate", "{\"data\": \"" + data + "\"}");
            assertEquals(200, evB.statusCode(), evB.body());
            lossB = ServerFixture.json(evB.body()).get("loss").asDouble();
            assertNotEquals(lossA, lossB);
            HttpResponse<String> firstTwo = f.post("/v1/adapters/reg/versions/1/evaluate",
                    "{\"data\": \"" + data + "\", \"max_examples\": 2}");
            assertEquals(200, firstTwo.statusCode(), firstTwo.body());
            assertEquals(2, ServerFixture.json(firstTwo.body()).get("sequences").asInt());
            assertEquals(400, f.post("/v1/adapters/reg/versions/1/evaluate", "{\"data\": \"" + tmp.resolve("none")
                    + "\"}").statusCode());
            assertEquals(404, f.post("/v1/adapters/reg/versions/9/evaluate", "{\"data\": \"" + data + "\"}")
                    .statusCode());
            // the evaluation on 2 lines is v1's latest; evaluate on all again so both compare on the same data
            assertEquals(200, f.post("/v1/adapters/reg/versions/1/evaluate", "{\"data\": \"" + data + "\"}")
                    .statusCode());

            int better = lossA < lossB ? 1 : 2;
            int worse = 3 - better;
            double betterLoss = Math.min(lossA, lossB);
            double worseLoss = Math.max(lossA, lossB);
            HttpResponse<String> toWorse = alias(f, "prod", "{\"version\": " + worse + ", \"expected_version\": 2}");
            assertEquals(200, toWorse.statusCode(), toWorse.body());
            HttpResponse<String> toBetter = alias(f, "prod", "{\"version\": " + better + ", \"expected_version\": "
                    + worse + ", \"require_no_worse\": true}");
            assertEquals(200, toBetter.statusCode(), toBetter.body());
            HttpResponse<String> refused = alias(f, "prod", "{\"version\": " + worse + ", \"require_no_worse\": true}");
            assertEquals(409, refused.statusCode(), refused.body());
            assertTrue(error(refused).contains(Double.toString(worseLoss))
                    && error(refused).contains(Double.toString(betterLoss)), refused.body());
            assertEquals(better, ServerFixture.json(f.get("/v1/adapters/reg").body()).at("/aliases/prod").asInt());

            HttpResponse<String> unevaluated = f.put("/v1/adapters/reg", "{\"path\": \"" + f.adapterA
                    + "\", \"require_no_worse\": true}");
            assertEquals(409, unevaluated.statusCode(), unevaluated.body());
            assertEquals(2, ServerFixture.json(f.get("/v1/adapters/reg").body()).get("versions").size(),
                    "nothing registered");
            assertEquals(200, f.put("/v1/adapters/reg", "{\"path\": \"" + f.adapterA + "\", \"promote\": false}")
                    .statusCode());
            HttpResponse<String> missing = alias(f, "prod", "{\"version\": 3, \"require_no_worse\": true}");
            assertEquals(409, missing.statusCode(), missing.body());
            assertTrue(error(missing).contains("no evaluation"), missing.body());

            assertEquals(200, traffic(f, "{\"versions\": {\"1\": 0.5, \"2\": 0.5}}").statusCode());
            for (String u : users(16)) {
                if (ServedModels.point(u, "reg") < 0.5) {
                    userOfA = u;
                }
            }
        }
        assertTrue(userOfA != null);

        try (ServerFixture f = start("second", state)) {
            JsonNode reg = ServerFixture.json(f.get("/v1/adapters/reg").body());
            assertEquals(1, reg.at("/aliases/canary").asInt(), reg.toString());
            assertEquals(lossA < lossB ? 1 : 2, reg.at("/aliases/prod").asInt(), reg.toString());
            assertEquals(1, reg.at("/traffic/revision").asInt(), reg.toString());
            assertEquals(0.5, reg.at("/traffic/versions/1").asDouble(), reg.toString());
            assertEquals(0.5, reg.at("/traffic/versions/2").asDouble(), reg.toString());
            assertEquals(4, reg.get("evaluations").size(), reg.toString());
            assertEquals(lossA, reg.at("/evaluations/0/loss").asDouble());
            assertEquals(lossB, reg.at("/evaluations/1/loss").asDouble());
            assertEquals(text(f, "reg@1", null), text(f, "reg", userOfA), "the split still holds");
            try (Connection c = DriverManager.getConnection(database() != null ? database()
                    : "jdbc:sqlite:" + state.resolve("registry.db"));
                 ResultSet r = c.createStatement().executeQuery(
                         "SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank")) {
                List<String> applied = new ArrayList<>();
                while (r.next()) {
                    applied.add(r.getString(1));
                }
                assertEquals(List.of("1", "2", "3", "4", "5", "6", "7"), applied);
            }
        }
    }

    @Test
    void changesWhileRequestsStreamLoseNoneAndEachOutputIsOneVersions() throws Exception {
        try (ServerFixture f = start("server", tmp.resolve("state"))) {
            registerBoth(f);
            String textA = text(f, "reg@1", null);
            String textB = text(f, "reg@2", null);
            ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
            List<Future<String>> outputs = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                String user = i % 3 == 0 ? null : "u" + i;
                boolean stream = i % 2 == 0;
                outputs.add(pool.submit(() -> stream ? streamed(f, "reg", user) : text(f, "reg", user)));
            }
            for (int i = 0; i < 6; i++) {
                assertEquals(200, traffic(f, "{\"versions\": {\"1\": 0.5, \"2\": 0.5}}").statusCode());
                assertEquals(200, alias(f, "prod", "{\"version\": 1}").statusCode());
                assertEquals(200, f.post("/v1/adapters/reg/rollback", "").statusCode());
                assertEquals(200, delete(f, "/v1/adapters/reg/traffic", "").statusCode());
                Thread.sleep(20);
            }
            for (Future<String> out : outputs) {
                String text = out.get();
                assertTrue(text.equals(textA) || text.equals(textB), "one version's whole output: " + text);
            }
            pool.shutdown();
        }
    }
}
