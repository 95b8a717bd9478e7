package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.PostgresSchema;
import dev.tailor.Shared;
import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.adapt.lora.LoraLayer;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.PretrainedModel;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two {@code tailor serve} processes on one PostgreSQL registry ({@code TAILOR_TEST_POSTGRES_URL}, a fresh schema)
 * and one {@code --state} store act as one service: what one registers, rolls back, splits, pins or creates, the
 * other serves or knows within a second, told by the database's notifications; two of them racing on one
 * {@code expected_version} (or one new tenant's name) give one 200 and one 409.
 */
class PostgresReplicasTest {
    private static final String ADMIN = "replica-admin-key";
    private static final Duration PROPAGATION = Duration.ofSeconds(1);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path tmp;
    private static PostgresSchema schema;
    private static Replica a;
    private static Replica b;
    private static Path adapterOne;
    private static Path adapterTwo;
    /** The longest a change took to be seen by the other replica, in nanoseconds. */
    private static long slowest;

    /** One {@code tailor serve} process, its port read from the line it prints when it serves. */
    private record Replica(String name, Process process, Path log, int port) {
        static Replica start(String name, Path model, Path state, String database, Path adapterRoot)
                throws Exception {
            Path log = tmp.resolve(name + ".log");
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                    "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                    "-cp", System.getProperty("java.class.path"), TailorCommand.class.getName(),
                    "serve", "--model", model.toString(), "--port", "0", "--state", state.toString(),
                    "--adapter-root", adapterRoot.toString()));
            ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().put("TAILOR_ADMIN_KEY", ADMIN);
            builder.environment().put("TAILOR_DATABASE_URL", database);
            Process process = builder.start();
            Pattern serving = Pattern.compile("serving .* at http://127\\.0\\.0\\.1:(\\d+)/v1");
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (System.nanoTime() < deadline) {
                Matcher m = serving.matcher(Files.readString(log));
                if (m.find()) {
                    return new Replica(name, process, log, Integer.parseInt(m.group(1)));
                }
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(50);
            }
            process.destroyForcibly();
            throw new AssertionError("replica " + name + " did not start: " + Files.readString(log));
        }

        HttpResponse<String> send(String method, String path, String body, String key) throws Exception {
            return HTTP.send(request(method, path, body, key), HttpResponse.BodyHandlers.ofString());
        }

        HttpRequest request(String method, String path, String body, String key) {
            return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + key)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body)).build();
        }

        /** Sends as the admin and answers the body, failing unless the status is 200. */
        JsonNode ok(String method, String path, String body) throws Exception {
            HttpResponse<String> r = send(method, path, body, ADMIN);
            assertEquals(200, r.statusCode(), name + " " + method + " " + path + ": " + r.body());
            return JSON.readTree(r.body());
        }

        /** The greedy text of a short completion of {@code model}. */
        String text(String model, String user) throws Exception {
            return ok("POST", "/v1/completions", "{\"model\": \"" + model + "\", \"prompt\": \"Hello\", "
                    + "\"max_tokens\": 6, \"temperature\": 0" + (user == null ? "" : ", \"user\": \"" + user + "\"")
                    + "}").at("/choices/0/text").asText();
        }

        /**
         * Reads {@code path} until {@code seen} holds of its body, for at most {@link #PROPAGATION} from now; answers
         * how long it took.
         */
        Duration await(String path, Predicate<JsonNode> seen, String what) throws Exception {
            long start = System.nanoTime();
            String last = "";
            while (true) {
                HttpResponse<String> r = send("GET", path, null, ADMIN);
                last = r.statusCode() + " " + r.body();
                if (r.statusCode() == 200 && seen.test(JSON.readTree(r.body()))) {
                    long took = System.nanoTime() - start;
                    slowest = Math.max(slowest, took);
                    return Duration.ofNanos(took);
                }
                if (System.nanoTime() - start > PROPAGATION.toNanos()) {
                    fail(name + " did not see " + what + " within " + PROPAGATION + "; GET " + path + " answered "
                            + last);
                }
                Thread.sleep(5);
            }
        }

        void stop() throws Exception {
            process.destroy();
            if (!process.waitFor(40, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    @BeforeAll
    static void startTwoReplicas() throws Exception {
        schema = PostgresSchema.create();
        Path model = Shared.require("models/tiny-llama");
        Path adapters = Files.createDirectories(tmp.resolve("adapters"));
        String fingerprint = BaseFingerprint.compute(model);
        try (PretrainedModel base = PretrainedModel.load(model)) {
            adapterOne = saveLora(base, adapters.resolve("one"), List.of("q_proj", "v_proj"), 1, fingerprint);
            adapterTwo = saveLora(base, adapters.resolve("two"), List.of("all-linear"), 2, fingerprint);
        }
        Path state = tmp.resolve("state");
        a = Replica.start("a", model, state, schema.url(), adapters);
        b = Replica.start("b", model, state, schema.url(), adapters);
        for (Replica r : List.of(a, b)) {
            r.text("tiny-llama", null);
        }
    }

    @AfterAll
    static void stopReplicas() throws Exception {
        System.out.printf("PostgresReplicasTest: the slowest change took %.1f ms to be seen by the other replica%n",
                slowest / 1e6);
        for (Replica r : new Replica[] {a, b}) {
            if (r != null) {
                r.stop();
            }
        }
        if (schema != null) {
            schema.close();
        }
    }

    /** A LoRA adapter on {@code targets} whose B is random enough to change the greedy text, saved in {@code dir}. */
    private static Path saveLora(PretrainedModel base, Path dir, List<String> targets, long seed, String fingerprint) {
        LoraModel m = LoraModel.create(new LoraConfig(4, 8, 0, targets, false, null), base.model().config(), seed);
        SplittableRandom rnd = new SplittableRandom(seed + 1000);
        for (LoraLayer layer : m.modules().values()) {
            Parameter p = layer.parameters().get(1);
            for (int i = 0; i < p.size(); i++) {
                p.data()[i] = (float) rnd.nextDouble(-0.5, 0.5);
            }
        }
        m.save(dir, "tiny-llama", fingerprint);
        return dir;
    }

    private static String register(Replica r, String name, Path dir, String more) throws Exception {
        return r.ok("PUT", "/v1/adapters/" + name, "{\"path\": \"" + dir + "\"" + more + "}").toString();
    }

    @Test
    void aVersionRegisteredOrRolledBackOnOneIsServedByTheOtherWithinASecond() throws Exception {
        register(a, "reg", adapterOne, "");
        b.await("/v1/adapters/reg", j -> j.at("/aliases/prod").asInt() == 1, "reg's version 1 registered on a");
        String one = b.text("reg", null);
        assertEquals(a.text("reg", null), one);

        register(a, "reg", adapterTwo, ", \"expected_version\": 1");
        b.await("/v1/adapters/reg", j -> j.at("/aliases/prod").asInt() == 2, "reg's version 2 registered on a");
        String two = b.text("reg", null);
        assertNotEquals(one, two, "the two versions answer differently");
        assertEquals(a.text("reg@2", null), two);

        a.ok("POST", "/v1/adapters/reg/rollback", "{\"expected_version\": 2}");
        b.await("/v1/adapters/reg", j -> j.at("/aliases/prod").asInt() == 1, "reg rolled back on a");
        assertEquals(one, b.text("reg", null), "b serves the rolled-back prod");
        HttpResponse<String> again = b.send("POST", "/v1/adapters/reg/rollback", "{\"expected_version\": 2}", ADMIN);
        assertEquals(409, again.statusCode(), "b knows prod moved: " + again.body());
    }

    @Test
    void aTrafficSplitAndAPinOnOneHoldOnTheOther() throws Exception {
        register(a, "split", adapterOne, "");
        register(a, "split", adapterTwo, ", \"promote\": false");
        String one = a.text("split@1", null);
        String two = a.text("split@2", null);
        assertNotEquals(one, two);

        a.ok("POST", "/v1/adapters/split/traffic", "{\"versions\": {\"1\": 0, \"2\": 1}, \"expected_version\": 0}");
        b.await("/v1/adapters/split", j -> j.at("/traffic/revision").asInt() == 1, "the split made on a");
        assertEquals(two, b.text("split", "someone"), "b follows the split: all of it to version 2");
        a.ok("POST", "/v1/adapters/split/traffic", "{\"versions\": {\"1\": 1, \"2\": 0}, \"expected_version\": 1}");
        b.await("/v1/adapters/split", j -> j.at("/traffic/revision").asInt() == 2, "the split changed on a");
        assertEquals(one, b.text("split", "someone"), "b follows the new split: all of it to version 1");

        a.ok("POST", "/v1/adapters/split/versions/2/pin", null);
        b.await("/v1/adapters/split", j -> j.at("/versions/1/pinned").asBoolean()
                && j.at("/versions/1/loaded").asBoolean(), "version 2 pinned on a, and loaded");
        a.ok("POST", "/v1/adapters/split/versions/2/unpin", null);
        b.await("/v1/adapters/split", j -> !j.at("/versions/1/pinned").asBoolean(), "version 2 unpinned on a");
    }

    @Test
    void aTenantMadeOnOneUsesTheOtherAndItsAdaptersAreItsOwnOnBoth() throws Exception {
        String key = a.ok("POST", "/v1/tenants", "{\"name\": \"acme\"}").get("api_key").asText();
        String other = a.ok("POST", "/v1/tenants", "{\"name\": \"other\"}").get("api_key").asText();
        HttpResponse<String> models = b.send("GET", "/v1/models", null, key);
        assertEquals(200, models.statusCode(), "b knows the tenant made on a at once: " + models.body());
        HttpResponse<String> listed = b.send("GET", "/v1/tenants", null, ADMIN);
        assertTrue(JSON.readTree(listed.body()).toString().contains("acme"), listed.body());

        HttpResponse<String> mine = b.send("PUT", "/v1/adapters/acmes", "{\"path\": \"" + adapterOne + "\"}", key);
        assertEquals(200, mine.statusCode(), mine.body());
        a.await("/v1/adapters/acme:acmes", j -> j.at("/aliases/prod").asInt() == 1,
                "the tenant's adapter registered on b, under its key");
        assertEquals(200, a.send("GET", "/v1/adapters/acmes", null, key).statusCode());
        assertEquals(404, a.send("GET", "/v1/adapters/acmes", null, other).statusCode(),
                "a knows whose it is: another tenant does not see it");
    }

    @Test
    void aReplicaWhoseListeningConnectionIsCutListensAgainAndRereadsEverything() throws Exception {
        register(a, "cut", adapterOne, "");
        b.await("/v1/adapters/cut", j -> j.at("/aliases/prod").asInt() == 1, "cut's version 1");
        try (Connection c = schema.connect(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                     + "WHERE application_name = 'tailor-registry-listener' AND datname = current_database()")) {
            assertTrue(r.next());
            assertEquals(2, r.getInt(1), "each replica listens on one connection");
        }
        // made while both listeners are gone or coming back: a notification may reach nobody, the reread finds it
        register(a, "cut", adapterTwo, ", \"expected_version\": 1");
        b.await("/v1/adapters/cut", j -> j.at("/aliases/prod").asInt() == 2, "cut's version 2 after the cut");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.readString(b.log).contains("listening to the adapter registry again")) {
            assertTrue(System.nanoTime() < deadline, "b says it listens again: " + Files.readString(b.log));
            Thread.sleep(20);
        }
        a.ok("POST", "/v1/adapters/cut/rollback", "{\"expected_version\": 2}");
        b.await("/v1/adapters/cut", j -> j.at("/aliases/prod").asInt() == 1, "a rollback after b listens again");
    }

    @Test
    void twoReplicasRacingOnOneExpectedVersionGiveOne200AndOne409() throws Exception {
        register(a, "race", adapterOne, "");
        register(a, "race", adapterTwo, ", \"promote\": false");
        register(a, "race", adapterOne, ", \"promote\": false");
        b.await("/v1/adapters/race", j -> j.get("versions").size() == 3, "race's three versions");
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            int canary = 0;
            for (int round = 0; round < 6; round++) {
                // each moves canary from where both saw it to a version of its own, so both cannot be right
                int expected = canary;
                List<Integer> others = new ArrayList<>(List.of(1, 2, 3));
                others.remove(Integer.valueOf(expected));
                List<Integer> statuses = race(pool, r -> r.request("POST", "/v1/adapters/race/aliases/canary",
                        "{\"version\": " + others.get(r == a ? 0 : 1) + ", \"expected_version\": " + expected + "}",
                        ADMIN));
                assertEquals(List.of(200, 409), statuses.stream().sorted().toList(), "round " + round);
                canary = others.get(statuses.get(0) == 200 ? 0 : 1);
                int now = canary;
                for (Replica r : List.of(a, b)) {
                    r.await("/v1/adapters/race", j -> j.at("/aliases/canary").asInt() == now, "canary at " + now);
                }
            }
            List<Integer> puts = race(pool, r -> r.request("PUT", "/v1/adapters/race", "{\"path\": \""
                    + (r == a ? adapterOne : adapterTwo) + "\", \"expected_version\": 3, \"promote\": false}", ADMIN));
            assertEquals(List.of(200, 409), puts.stream().sorted().toList(), "two registrations of version 4");
            b.await("/v1/adapters/race", j -> j.get("versions").size() == 4, "exactly one version 4");
            a.await("/v1/adapters/race", j -> j.get("versions").size() == 4, "exactly one version 4");
            a.ok("POST", "/v1/adapters/race/aliases/prod", "{\"version\": 2, \"expected_version\": 1}");
            b.await("/v1/adapters/race", j -> j.at("/aliases/prod").asInt() == 2, "prod moved to 2 on a");
            List<Integer> rollbacks = race(pool, r -> r.request("POST", "/v1/adapters/race/rollback",
                    "{\"expected_version\": 2}", ADMIN));
            assertEquals(List.of(200, 409), rollbacks.stream().sorted().toList(), "two rollbacks of one prod");
            for (Replica r : List.of(a, b)) {
                r.await("/v1/adapters/race", j -> j.at("/aliases/prod").asInt() == 1, "prod rolled back once");
            }
            List<Integer> splits = race(pool, r -> r.request("POST", "/v1/adapters/race/traffic", "{\"versions\": "
                    + (r == a ? "{\"1\": 1}" : "{\"2\": 1}") + ", \"expected_version\": 0}", ADMIN));
            assertEquals(List.of(200, 409), splits.stream().sorted().toList(), "two first splits");
            List<Integer> tenants = race(pool, r -> r.request("POST", "/v1/tenants", "{\"name\": \"racer\"}", ADMIN));
            assertEquals(List.of(200, 409), tenants.stream().sorted().toList(), "two tenants of one name");
        }
    }

    /** What a's and b's requests answer when both are sent at once: [a's status, b's status]. */
    private static List<Integer> race(ExecutorService pool, java.util.function.Function<Replica, HttpRequest> request)
            throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        for (Replica r : List.of(a, b)) {
            HttpRequest req = request.apply(r);
            answers.add(pool.submit(() -> {
                start.await();
                return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
            }));
        }
        List<Integer> statuses = new ArrayList<>();
        for (Future<HttpResponse<String>> f : answers) {
            HttpResponse<String> r = f.get();
            assertTrue(r.statusCode() == 200 || r.statusCode() == 409, r.statusCode() + " " + r.body());
            statuses.add(r.statusCode());
        }
        return statuses;
    }
}
