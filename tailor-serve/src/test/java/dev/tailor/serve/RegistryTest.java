package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.model.BaseFingerprint;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The durable adapter registry ({@code --state}): versions and the prod alias survive a restart, {@code name} and
 * {@code name@n} serve what was registered, rollback, compare-and-set conflicts, bad adapters refused with nothing
 * changed, unknown versions named, identical files stored once; a registry made before pins migrates unpinned.
 * In SQLite here; {@link PostgresRegistryTest} runs the same on PostgreSQL.
 */
class RegistryTest {
    private static final String PROMPT = "Hello";
    private static final int MAX_TOKENS = 8;

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

    private static HttpResponse<String> register(ServerFixture f, String name, Path dir, String more)
            throws Exception {
        return f.put("/v1/adapters/" + name, "{\"path\": \"" + dir + "\"" + more + "}");
    }

    private static String text(ServerFixture f, String model) throws Exception {
        HttpResponse<String> r = completion(f, model);
        assertEquals(200, r.statusCode(), r.body());
        return ServerFixture.json(r.body()).at("/choices/0/text").asText();
    }

    private static HttpResponse<String> completion(ServerFixture f, String model) throws Exception {
        return f.post("/v1/completions", "{\"model\": \"" + model + "\", \"prompt\": \"" + PROMPT
                + "\", \"max_tokens\": " + MAX_TOKENS + ", \"temperature\": 0}");
    }

    /** The engine's greedy text on the fixture's loaded adapters {@code model} (e.g. {@code a}, {@code b+a}). */
    private static String engine(ServerFixture f, String model) {
        return f.greedy(f.server.models().resolve(model), PROMPT, MAX_TOKENS).text();
    }

    private static String error(HttpResponse<String> r) throws Exception {
        return ServerFixture.json(r.body()).at("/error/message").asText();
    }

    private static List<Path> blobs(Path state) throws Exception {
        try (Stream<Path> s = Files.list(state.resolve("store/sha256"))) {
            return s.toList();
        }
    }

    @Test
    void versionsAndProdSurviveARestartAndServeWhatWasRegistered() throws Exception {
        Path state = tmp.resolve("state");
        String textA;
        String textB;
        try (ServerFixture f = start("first", state)) {
            textA = engine(f, "a");
            textB = engine(f, "b");
            assertNotEquals(textA, textB, "the two adapters answer differently");
            HttpResponse<String> first = register(f, "reg", f.adapterA, "");
            assertEquals(200, first.statusCode(), first.body());
            assertEquals(1, ServerFixture.json(first.body()).get("version").asInt());
            HttpResponse<String> second = register(f, "reg", f.adapterB, ", \"expected_version\": 1");
            assertEquals(200, second.statusCode(), second.body());
            assertEquals("reg", ServerFixture.json(second.body()).get("name").asText());
            assertEquals(2, ServerFixture.json(second.body()).get("version").asInt());
            assertEquals(textB, text(f, "reg"), "a new version is prod at once");

            HttpResponse<String> back = f.post("/v1/adapters/reg/rollback", "");
            assertEquals(200, back.statusCode(), back.body());
            assertEquals(1, ServerFixture.json(back.body()).get("version").asInt());
            assertEquals(textA, text(f, "reg"));
            HttpResponse<String> noEarlier = f.post("/v1/adapters/reg/rollback", "{}");
            assertEquals(409, noEarlier.statusCode(), noEarlier.body());
            assertTrue(error(noEarlier).contains("no earlier version"), noEarlier.body());
        }

        try (ServerFixture f = start("second", state)) {
            JsonNode reg = ServerFixture.json(f.get("/v1/adapters/reg").body());
            assertEquals(1, reg.at("/aliases/prod").asInt(), reg.toString());
            assertEquals(2, reg.get("versions").size(), reg.toString());
            String fingerprint = BaseFingerprint.compute(f.modelDir);
            for (int i = 0; i < 2; i++) {
                JsonNode v = reg.get("versions").get(i);
                assertEquals(i + 1, v.get("version").asInt());
                assertEquals("LORA", v.get("method").asText());
                assertEquals(4, v.get("rank").asInt());
                assertTrue(v.get("bytes").asLong() > 0, v.toString());
                assertEquals(fingerprint, v.get("base_fingerprint").asText());
                assertTrue(v.get("created").asLong() > 0, v.toString());
                assertEquals("admin", v.get("creator").asText(), v.toString());
            }
            assertEquals(textA, text(f, "reg"), "the rolled-back prod is back");
            assertEquals(textA, text(f, "reg@1"));
            assertEquals(textB, text(f, "reg@2"));
            assertEquals(engine(f, "b+a"), text(f, "reg@2+a"), "a registered version stacks");

            List<String> ids = new ArrayList<>();
            ServerFixture.json(f.get("/v1/models").body()).get("data").forEach(m -> {
                ids.add(m.get("id").asText());
                if (m.get("id").asText().startsWith("reg")) {
                    assertEquals(ServerFixture.BASE, m.get("parent").asText());
                }
            });
            assertTrue(ids.containsAll(List.of("reg", "reg@1", "reg@2")), ids.toString());

            assertEquals(2, blobs(state).size());
            HttpResponse<String> again = register(f, "reg", f.adapterA, ", \"promote\": false");
            assertEquals(3, ServerFixture.json(again.body()).get("version").asInt(), again.body());
            assertEquals(2, blobs(state).size(), "the same files are stored once");
            assertEquals(1, ServerFixture.json(f.get("/v1/adapters/reg").body()).at("/aliases/prod").asInt(),
                    "promote=false leaves prod");
            try (Stream<Path> scratch = Files.list(state.resolve("store/tmp"))) {
                assertEquals(0, scratch.count(), "nothing is left staged");
            }
        }
    }

    @Test
    void conflictsBadAdaptersAndUnknownVersionsAreRefusedNamingTheCause() throws Exception {
        Path state = tmp.resolve("state");
        try (ServerFixture f = start("server", state)) {
            assertEquals(200, register(f, "reg", f.adapterA, ", \"expected_version\": 0").statusCode());
            String before = text(f, "reg");
            String listed = f.get("/v1/adapters").body();

            HttpResponse<String> stale = register(f, "reg", f.adapterB, ", \"expected_version\": 0");
            assertEquals(409, stale.statusCode(), stale.body());
            assertTrue(error(stale).contains("expected_version is 0") && error(stale).contains("is 1"), stale.body());
            HttpResponse<String> staleRollback = f.post("/v1/adapters/reg/rollback", "{\"expected_version\": 5}");
            assertEquals(409, staleRollback.statusCode(), staleRollback.body());

            Path corrupt = Files.createDirectories(tmp.resolve("corrupt"));
            Files.copy(f.adapterA.resolve("adapter_config.json"), corrupt.resolve("adapter_config.json"));
            Files.write(corrupt.resolve("adapter_model.safetensors"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
            Path otherBase = ServerFixture.saveLora(f.pretrained, tmp.resolve("other-base"), List.of("q_proj"), 3,
                    "sha256:another-base");
            for (Path bad : List.of(corrupt, otherBase, tmp.resolve("missing"))) {
                HttpResponse<String> r = register(f, "reg", bad, "");
                assertEquals(400, r.statusCode(), bad + ": " + r.body());
                assertTrue(error(r).contains(bad.toString()), r.body());
                assertTrue(!error(r).contains(state.toString()), "names the caller's path: " + r.body());
            }
            assertTrue(error(register(f, "reg", otherBase, "")).contains("sha256:another-base"));
            assertEquals(listed, f.get("/v1/adapters").body(), "nothing was registered");
            assertEquals(1, blobs(state).size(), "nothing was stored");
            assertEquals(before, text(f, "reg"), "prod is untouched");

            HttpResponse<String> unknown = completion(f, "reg@7");
            assertEquals(404, unknown.statusCode(), unknown.body());
            assertTrue(error(unknown).contains("no version '7'"), unknown.body());
            assertEquals(404, completion(f, "a+reg@7").statusCode());
            assertEquals(404, f.get("/v1/adapters/nope").statusCode());

            HttpResponse<String> taken = f.post("/v1/load_lora_adapter",
                    "{\"lora_name\": \"reg\", \"lora_path\": \"" + f.adapterB + "\"}");
            assertEquals(400, taken.statusCode(), taken.body());
            HttpResponse<String> loaded = register(f, "a", f.adapterB, "");
            assertEquals(400, loaded.statusCode(), loaded.body());
        }
    }

    @Test
    void aRegistryMadeBeforePinsMigratesWithEveryVersionUnpinned() throws Exception {
        String url = database() != null ? database() : "jdbc:sqlite:" + tmp.resolve("registry.db");
        Flyway.configure().dataSource(url, null, null).locations(Database.Dialect.of(url).locations()).target("3")
                .load().migrate();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO adapter_version (name, version, sha256, method, rank, bytes, base_fingerprint, "
                    + "created) VALUES ('old', 1, 'abc', 'LORA', 4, 10, NULL, 1)");
        }
        try (AdapterRegistry registry = AdapterRegistry.open(url)) {
            assertFalse(registry.infos("old").get("old").version(1).pinned());
            registry.setPinned("old", 1, true);
            assertTrue(registry.infos(null).get("old").version(1).pinned());
        }
    }
}
