package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tenants and API keys ({@code --admin-key}, {@code --adapter-root}): 401 without a valid key, 403 for a tenant
 * doing the admin's work, a tenant's adapters invisible to another (404 exactly as a missing one), registrations
 * confined to the adapter roots, shared adapters for everyone, keys stored only hashed. In SQLite here;
 * {@link PostgresTenantsTest} runs the same on PostgreSQL.
 */
class TenantsTest {
    private static final String ADMIN = "admin-secret-key";

    @TempDir
    Path tmp;

    /** The registry database's JDBC URL, or null for SQLite in the state directory. */
    String database() {
        return null;
    }

    private ServerFixture start(String dir, Path state, Access access) throws Exception {
        return ServerFixture.start(tmp.resolve(dir), ServerOptions.defaults(), state, database(), access,
                ServedModels.DEFAULT_ADAPTER_CACHE_BYTES);
    }

    private static HttpResponse<String> completion(ServerFixture f, String model, String key) throws Exception {
        return f.send("POST", "/v1/completions", "{\"model\": \"" + model + "\", \"prompt\": \"Hello\", "
                + "\"max_tokens\": 4, \"temperature\": 0}", key);
    }

    private static HttpResponse<String> register(ServerFixture f, String name, String path, String more, String key)
            throws Exception {
        return f.send("PUT", "/v1/adapters/" + name, "{\"path\": \"" + path + "\"" + more + "}", key);
    }

    private static List<String> modelIds(ServerFixture f, String key) throws Exception {
        HttpResponse<String> r = f.send("GET", "/v1/models", null, key);
        assertEquals(200, r.statusCode(), r.body());
        List<String> ids = new ArrayList<>();
        ServerFixture.json(r.body()).get("data").forEach(m -> ids.add(m.get("id").asText()));
        return ids;
    }

    private static List<String> adapterNames(ServerFixture f, String key) throws Exception {
        HttpResponse<String> r = f.send("GET", "/v1/adapters", null, key);
        assertEquals(200, r.statusCode(), r.body());
        List<String> names = new ArrayList<>();
        ServerFixture.json(r.body()).get("data").forEach(m -> names.add(m.get("name").asText()));
        return names;
    }

    private static String tenant(ServerFixture f, String name) throws Exception {
        HttpResponse<String> r = f.send("POST", "/v1/tenants", "{\"name\": \"" + name + "\"}", ADMIN);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = ServerFixture.json(r.body());
        assertEquals(name, body.get("name").asText());
        return body.get("api_key").asText();
    }

    private static void copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }

    @Test
    void tenantsSeeAndUseOnlyTheirOwnAndSharedAdapters() throws Exception {
        Path state = tmp.resolve("state");
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path outsideRoot = tmp.resolve("outside");
        try (ServerFixture f = start("server", state, new Access(ADMIN, List.of(root)))) {
            Path mine = root.resolve("mine");
            copy(f.adapterA, mine);
            Path outside = outsideRoot.resolve("x");
            copy(f.adapterB, outside);

            // no key, a bad key, a malformed header: 401; health and readiness stay open
            assertEquals(401, f.send("GET", "/v1/models", null, null).statusCode());
            HttpResponse<String> bad = f.send("GET", "/v1/models", null, "nope");
            assertEquals(401, bad.statusCode(), bad.body());
            assertEquals("invalid_api_key", ServerFixture.json(bad.body()).at("/error/code").asText());
            assertEquals(401, completion(f, ServerFixture.BASE, null).statusCode());
            assertEquals(200, f.send("GET", "/health", null, null).statusCode());
            assertEquals(200, f.send("GET", "/ready", null, null).statusCode());

            String keyA = tenant(f, "alpha");
            String keyB = tenant(f, "beta");
            assertNotEquals(keyA, keyB);
            assertEquals(409, f.send("POST", "/v1/tenants", "{\"name\": \"alpha\"}", ADMIN).statusCode());

            // a tenant may not do the admin's work
            assertEquals(403, f.send("POST", "/v1/tenants", "{\"name\": \"gamma\"}", keyB).statusCode());
            assertEquals(403, f.send("GET", "/v1/tenants", null, keyB).statusCode());
            assertEquals(403, f.send("POST", "/v1/load_lora_adapter", "{\"lora_name\": \"x\", \"lora_path\": \""
                    + mine + "\"}", keyB).statusCode());
            assertEquals(403, f.send("POST", "/v1/unload_lora_adapter", "{\"lora_name\": \"a\"}", keyB)
                    .statusCode());
            assertEquals(403, f.send("GET", "/metrics", null, keyB).statusCode());
            assertEquals(403, register(f, "s", mine.toString(), ", \"shared\": true", keyA).statusCode());
            assertEquals(403, register(f, "s", mine.toString(), ", \"tenant\": \"beta\"", keyA).statusCode());

            // a tenant registers only from under the roots
            HttpResponse<String> out = register(f, "esc", outside.toString(), "", keyA);
            assertEquals(403, out.statusCode(), out.body());
            assertEquals(403, register(f, "esc", root + "/../outside/x", "", keyA).statusCode());
            Files.createSymbolicLink(root.resolve("link"), outside);
            assertEquals(403, register(f, "esc", root.resolve("link").toString(), "", keyA).statusCode());
            Path sneaky = Files.createDirectories(root.resolve("sneaky"));
            Files.copy(mine.resolve("adapter_config.json"), sneaky.resolve("adapter_config.json"));
            Files.createSymbolicLink(sneaky.resolve("adapter_model.safetensors"),
                    outside.resolve("adapter_model.safetensors"));
            assertEquals(403, register(f, "esc", sneaky.toString(), "", keyA).statusCode(),
                    "a file linking outside the roots is refused");
            assertEquals(400, register(f, "esc", "relative/dir", "", keyA).statusCode());
            assertFalse(adapterNames(f, ADMIN).contains("esc"), "nothing was registered");

            HttpResponse<String> reg = register(f, "mine", mine.toString(), "", keyA);
            assertEquals(200, reg.statusCode(), reg.body());
            assertEquals(200, completion(f, "mine", keyA).statusCode());
            assertEquals(200, completion(f, "mine@1+a", keyA).statusCode());
            assertTrue(modelIds(f, keyA).containsAll(List.of("mine", "mine@1", "a", "b", ServerFixture.BASE)));
            assertEquals(List.of("mine"), adapterNames(f, keyA));
            assertEquals("tenant:alpha", ServerFixture.json(f.send("GET", "/v1/adapters/mine", null, keyA).body())
                    .at("/versions/0/creator").asText(), "the version records who registered it");
            assertTrue(modelIds(f, ADMIN).containsAll(List.of("alpha:mine", "alpha:mine@1")),
                    "the admin sees everything, a tenant's adapters under their keys");
            for (String[] call : new String[][] {{"POST", "/v1/adapters/mine/aliases/canary", "{\"version\": 1}"},
                    {"POST", "/v1/adapters/mine/traffic", "{\"versions\": {\"1\": 1}}"},
                    {"DELETE", "/v1/adapters/mine/traffic", null},
                    {"POST", "/v1/adapters/mine/versions/1/evaluate", "{\"data\": \"/nonexistent.jsonl\"}"},
                    {"POST", "/v1/adapters/mine/versions/1/pin", null},
                    {"POST", "/v1/adapters/mine/versions/1/unpin", null}}) {
                HttpResponse<String> r = f.send(call[0], call[1], call[2], keyA);
                assertEquals(403, r.statusCode(), "alias moves, splits, evaluations and pins are the admin's: "
                        + call[1]);
            }
            assertEquals(403, register(f, "mine", mine.toString(), ", \"pin\": true", keyA).statusCode(),
                    "a tenant may not pin");
            assertEquals(200, register(f, "mine", mine.toString(), ", \"preload\": true, \"promote\": false", keyA)
                    .statusCode(), "a tenant may preload");
            assertEquals(200, f.send("POST", "/v1/adapters/alpha:mine/aliases/canary", "{\"version\": 1}", ADMIN)
                    .statusCode(), "the admin moves a tenant's alias");

            // beta cannot learn that alpha's adapter exists: the same 404 as for a name nobody has
            for (String model : List.of("mine", "mine@1", "a+mine")) {
                HttpResponse<String> hidden = completion(f, model, keyB);
                HttpResponse<String> missing = completion(f, model.replace("mine", "ghost"), keyB);
                assertEquals(404, hidden.statusCode(), hidden.body());
                assertEquals(missing.body().replace("ghost", "mine"), hidden.body());
            }
            HttpResponse<String> hidden = f.send("GET", "/v1/adapters/mine", null, keyB);
            HttpResponse<String> missing = f.send("GET", "/v1/adapters/ghost", null, keyB);
            assertEquals(404, hidden.statusCode(), hidden.body());
            assertEquals(missing.body().replace("ghost", "mine"), hidden.body());
            assertEquals(404, f.send("POST", "/v1/adapters/mine/rollback", "{}", keyB).statusCode());
            assertFalse(modelIds(f, keyB).stream().anyMatch(id -> id.startsWith("mine")), "hidden in /v1/models");
            HttpResponse<String> hiddenCard = f.send("GET", "/v1/models/mine@1", null, keyB);
            HttpResponse<String> missingCard = f.send("GET", "/v1/models/ghost@1", null, keyB);
            assertEquals(404, hiddenCard.statusCode(), hiddenCard.body());
            assertEquals(missingCard.body().replace("ghost", "mine"), hiddenCard.body());
            assertEquals("mine@1", ServerFixture.json(f.send("GET", "/v1/models/mine@1", null, keyA).body())
                    .get("id").asText(), "its owner retrieves it");
            assertEquals(404, f.send("POST", "/tokenize", "{\"model\": \"mine\", \"prompt\": \"x\"}", keyB)
                    .statusCode(), "nor tokenize for it");
            assertEquals(List.of(), adapterNames(f, keyB));
            assertTrue(modelIds(f, keyB).containsAll(List.of("a", "b", ServerFixture.BASE)),
                    "the base and adapters loaded at start are shared");
            assertEquals(200, completion(f, "a", keyB).statusCode());

            // the admin registers a shared one, from any path: both tenants see and use it, neither changes it
            HttpResponse<String> common = register(f, "common", outside.toString(), ", \"shared\": true", ADMIN);
            assertEquals(200, common.statusCode(), common.body());
            for (String key : List.of(keyA, keyB)) {
                assertTrue(modelIds(f, key).containsAll(List.of("common", "common@1")));
                assertTrue(adapterNames(f, key).contains("common"));
                assertEquals(200, completion(f, "common", key).statusCode());
                assertEquals(200, f.send("GET", "/v1/adapters/common", null, key).statusCode());
            }
            assertEquals(403, register(f, "common", mine.toString(), "", keyB).statusCode());
            // the admin registers one for a tenant
            assertEquals(200, register(f, "betas", outside.toString(), ", \"tenant\": \"beta\"", ADMIN)
                    .statusCode());
            assertTrue(adapterNames(f, keyB).contains("betas"));
            assertFalse(adapterNames(f, keyA).contains("betas"));
            assertEquals(400, register(f, "x", outside.toString(), ", \"tenant\": \"nobody\"", ADMIN).statusCode());

            // keys are stored only as SHA-256 hashes
            List<String> stored = new ArrayList<>();
            try (Connection c = DriverManager.getConnection(database() != null ? database()
                    : "jdbc:sqlite:" + state.resolve("registry.db"));
                 Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT key_sha256 FROM api_key ORDER BY tenant")) {
                while (r.next()) {
                    stored.add(r.getString(1));
                }
            }
            assertEquals(List.of(Tenants.hash(keyA), Tenants.hash(keyB)), stored);
            for (Path file : Files.list(state).filter(p -> p.getFileName().toString().startsWith("registry.db"))
                    .toList()) {
                String raw = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                assertFalse(raw.contains(keyA) || raw.contains(keyB) || raw.contains(ADMIN), file.toString());
            }
        }

        // after a restart the keys and ownership hold
        try (ServerFixture f = start("again", state, new Access(ADMIN, List.of(root)))) {
            assertEquals(List.of("alpha", "beta"), List.copyOf(f.server.models().tenants()));
            assertEquals(401, f.send("GET", "/v1/adapters", null, "tailor-unknown").statusCode());
            assertTrue(adapterNames(f, ADMIN).containsAll(List.of("beta:betas", "common", "alpha:mine")));
        }
    }

    private static String text(ServerFixture f, String model, String key) throws Exception {
        HttpResponse<String> r = f.send("POST", "/v1/completions", "{\"model\": \"" + model + "\", \"prompt\": "
                + "\"Hello\", \"max_tokens\": 8, \"temperature\": 0}", key);
        assertEquals(200, r.statusCode(), model + ": " + r.body());
        return ServerFixture.json(r.body()).at("/choices/0/text").asText();
    }

    /** Asserts {@code hidden} is answered exactly as {@code missing}, a name nobody has, but for the name. */
    private static void sameAsMissing(HttpResponse<String> hidden, HttpResponse<String> missing, String hiddenName,
                                      String missingName) {
        assertEquals(404, hidden.statusCode(), hidden.body());
        assertEquals(missing.statusCode(), hidden.statusCode());
        assertEquals(missing.body().replace(missingName, hiddenName), hidden.body());
    }

    @Test
    void twoTenantsEachHaveTheirOwnAdapterOfOneName() throws Exception {
        Path state = tmp.resolve("state");
        Path root = Files.createDirectories(tmp.resolve("root"));
        String textA;
        String textB;
        String keyA;
        String keyB;
        try (ServerFixture f = start("server", state, new Access(ADMIN, List.of(root)))) {
            Path one = root.resolve("one");
            copy(f.adapterA, one);
            Path two = root.resolve("two");
            copy(f.adapterB, two);
            textA = text(f, "a", ADMIN);
            textB = text(f, "b", ADMIN);
            assertNotEquals(textA, textB, "adapters a and b answer differently");
            keyA = tenant(f, "alpha");
            keyB = tenant(f, "beta");
            assertEquals(400, f.send("POST", "/v1/tenants", "{\"name\": \"gam:ma\"}", ADMIN).statusCode());

            // each registers 'support' as its own version 1, from different files
            for (String[] reg : new String[][] {{keyA, one.toString()}, {keyB, two.toString()}}) {
                HttpResponse<String> r = register(f, "support", reg[1], "", reg[0]);
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("support", ServerFixture.json(r.body()).get("name").asText());
                assertEquals(1, ServerFixture.json(r.body()).get("version").asInt());
            }
            assertEquals(textA, text(f, "support", keyA));
            assertEquals(textA, text(f, "support@1", keyA));
            assertEquals(textB, text(f, "support", keyB));
            HttpResponse<String> own = f.send("GET", "/v1/adapters/support", null, keyB);
            assertEquals(200, own.statusCode(), own.body());
            assertEquals("support", ServerFixture.json(own.body()).get("name").asText());
            assertEquals("tenant:beta", ServerFixture.json(own.body()).at("/versions/0/creator").asText());

            // beta's other adapter is, to alpha, a name nobody has: in models, stacks and routes, by any spelling
            assertEquals(200, register(f, "private", two.toString(), "", keyB).statusCode());
            for (String hidden : List.of("private", "beta:private", "beta:support", "alpha:support")) {
                for (String model : List.of(hidden, hidden + "@1", "support+" + hidden)) {
                    sameAsMissing(completion(f, model, keyA), completion(f, model.replace(hidden, "ghost"), keyA),
                            hidden, "ghost");
                }
                sameAsMissing(f.send("GET", "/v1/adapters/" + hidden, null, keyA),
                        f.send("GET", "/v1/adapters/ghost", null, keyA), hidden, "ghost");
                sameAsMissing(f.send("POST", "/v1/adapters/" + hidden + "/rollback", "{}", keyA),
                        f.send("POST", "/v1/adapters/ghost/rollback", "{}", keyA), hidden, "ghost");
            }
            HttpResponse<String> twice = completion(f, "support+support", keyA);
            assertEquals(404, twice.statusCode(), twice.body());
            assertFalse(twice.body().contains("alpha:") || twice.body().contains("beta"), twice.body());

            // a tenant lists its own and the shared ones, by the names it gives them; its own hides a shared one
            HttpResponse<String> shared = register(f, "support", f.adapterB.toString(), ", \"shared\": true", ADMIN);
            assertEquals(200, shared.statusCode(), shared.body());
            assertEquals(200, register(f, "common", f.adapterB.toString(), ", \"shared\": true", ADMIN)
                    .statusCode());
            assertEquals(List.of("common", "support"), adapterNames(f, keyA));
            assertEquals(List.of("common", "private", "support"), adapterNames(f, keyB));
            assertEquals(List.of(ServerFixture.BASE, "a", "b", "common", "common@1", "support", "support@1"),
                    modelIds(f, keyA));
            assertEquals(textA, text(f, "support", keyA), "its own before the shared one");
            HttpResponse<String> sharedName = register(f, "common", one.toString(), "", keyA);
            assertEquals(403, sharedName.statusCode(), sharedName.body());

            // a ':' is the namespace's: a tenant may not put one in a name
            HttpResponse<String> colon = register(f, "x:y", one.toString(), "", keyA);
            assertEquals(400, colon.statusCode(), colon.body());
            assertEquals("name", ServerFixture.json(colon.body()).at("/error/param").asText());
            assertTrue(ServerFixture.json(colon.body()).at("/error/message").asText().contains("':'"));

            // the admin names every adapter by its key, serves and registers by it
            assertEquals(List.of("alpha:support", "beta:private", "beta:support", "common", "support"),
                    adapterNames(f, ADMIN));
            assertTrue(modelIds(f, ADMIN).containsAll(List.of("alpha:support", "beta:support@1", "support")));
            assertEquals(textA, text(f, "alpha:support", ADMIN));
            assertEquals(textB, text(f, "beta:support@1", ADMIN));
            assertEquals("alpha:support", ServerFixture.json(f.send("GET", "/v1/adapters/alpha%3Asupport", null,
                    ADMIN).body()).get("name").asText(), "the admin page's escaped ':' names the key too");
            HttpResponse<String> forAlpha = register(f, "support", two.toString(), ", \"tenant\": \"alpha\"", ADMIN);
            assertEquals(200, forAlpha.statusCode(), forAlpha.body());
            assertEquals("alpha:support", ServerFixture.json(forAlpha.body()).get("name").asText());
            assertEquals(2, ServerFixture.json(forAlpha.body()).get("version").asInt());
            assertEquals(textB, text(f, "support", keyA), "alpha's prod is the version the admin registered");
            HttpResponse<String> byKey = register(f, "beta:support", one.toString(), "", ADMIN);
            assertEquals(200, byKey.statusCode(), byKey.body());
            assertEquals("beta:support", ServerFixture.json(byKey.body()).get("name").asText());
            assertEquals(2, ServerFixture.json(byKey.body()).get("version").asInt());
            assertEquals(textA, text(f, "support", keyB));
            HttpResponse<String> rolled = f.send("POST", "/v1/adapters/support/rollback", "{}", keyB);
            assertEquals(200, rolled.statusCode(), rolled.body());
            assertEquals("{\"name\":\"support\",\"version\":1}", rolled.body());
            assertEquals(400, register(f, "beta:support", one.toString(), ", \"tenant\": \"alpha\"", ADMIN)
                    .statusCode(), "a tenant that contradicts the key's");
            assertEquals(400, register(f, "beta:other", one.toString(), ", \"shared\": true", ADMIN).statusCode());
            assertEquals(400, register(f, "nobody:x", one.toString(), "", ADMIN).statusCode(), "no such tenant");
            assertFalse(adapterNames(f, ADMIN).contains("beta:other"));

            // the metrics, the admin's, tell the two tenants' requests for 'support' apart
            String metrics = f.send("GET", "/metrics", null, ADMIN).body();
            assertTrue(metrics.contains("model=\"alpha:support@1\"") && metrics.contains("model=\"beta:support\""),
                    metrics);
            assertFalse(metrics.contains("model=\"support\""), metrics);
        }

        // after a restart each tenant's 'support' is still its own
        try (ServerFixture f = start("again", state, new Access(ADMIN, List.of(root)))) {
            assertEquals(List.of("alpha:support", "beta:private", "beta:support", "common", "support"),
                    adapterNames(f, ADMIN));
            assertEquals(List.of("common", "support"), adapterNames(f, keyA));
            assertEquals(textB, text(f, "support", keyA));
            assertEquals(textA, text(f, "support@1", keyA));
            assertEquals(textB, text(f, "support", keyB), "beta's prod rolled back to its version 1");
            assertEquals(textA, text(f, "beta:support@2", ADMIN));
            sameAsMissing(completion(f, "private", keyA), completion(f, "ghost", keyA), "private", "ghost");
        }
    }

    /** Runs {@code statements} on the registry's database, as someone editing it by hand (or an older server). */
    private void sql(Path state, String... statements) throws Exception {
        try (Connection c = DriverManager.getConnection(database() != null ? database()
                : "jdbc:sqlite:" + state.resolve("registry.db"));
             Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.executeUpdate(statement);
            }
        }
    }

    /** A copy of version 1 of {@code from} as version 1 of {@code to}, as a server before namespaces made it. */
    private static String copyVersion(String from, String to) {
        return "INSERT INTO adapter_version (name, version, sha256, method, rank, bytes, base_fingerprint, created, "
                + "pinned, creator) SELECT '" + to + "', version, sha256, method, rank, bytes, base_fingerprint, "
                + "created, pinned, creator FROM adapter_version WHERE name = '" + from + "' AND version = 1";
    }

    @Test
    void namesRegisteredBeforeNamespacesKeepServing() throws Exception {
        Path state = tmp.resolve("state");
        Path root = Files.createDirectories(tmp.resolve("root"));
        String keyA;
        String keyB;
        String textA;
        try (ServerFixture f = start("server", state, new Access(ADMIN, List.of(root)))) {
            keyA = tenant(f, "alpha");
            keyB = tenant(f, "beta");
            textA = text(f, "a", ADMIN);
            assertEquals(200, register(f, "old", f.adapterA.toString(), "", ADMIN).statusCode());
        }
        // as registered before: alpha's plain 'old', a plain 'gamma:x', and beta's 'alpha:z' in alpha's namespace
        sql(state, "INSERT INTO adapter_owner (name, tenant, shared) VALUES ('old', 'alpha', 0)",
                copyVersion("old", "gamma:x"), copyVersion("old", "alpha:z"),
                "INSERT INTO adapter_owner (name, tenant, shared) VALUES ('alpha:z', 'beta', 0)");
        try (ServerFixture f = start("again", state, new Access(ADMIN, List.of(root)))) {
            Path one = root.resolve("one");
            copy(f.adapterB, one);
            assertEquals(List.of("old"), adapterNames(f, keyA), "alpha's plain name stays its own");
            assertEquals(textA, text(f, "old", keyA));
            HttpResponse<String> next = register(f, "old", one.toString(), "", keyA);
            assertEquals(200, next.statusCode(), next.body());
            assertEquals("{\"name\":\"old\",\"version\":2}", next.body(), "a new version of its plain key");
            assertEquals(List.of("alpha:z", "gamma:x", "old"), adapterNames(f, ADMIN));
            assertEquals(List.of("alpha:z"), adapterNames(f, keyB), "beta's key from before is its name");

            sameAsMissing(completion(f, "old", keyB), completion(f, "ghost", keyB), "old", "ghost");
            sameAsMissing(completion(f, "z", keyA), completion(f, "ghost", keyA), "z", "ghost");
            HttpResponse<String> taken = register(f, "z", one.toString(), "", keyA);
            assertEquals(409, taken.statusCode(), taken.body());
            assertFalse(taken.body().contains("beta"), taken.body());
            HttpResponse<String> gamma = f.send("POST", "/v1/tenants", "{\"name\": \"gamma\"}", ADMIN);
            assertEquals(409, gamma.statusCode(), gamma.body());
            assertTrue(gamma.body().contains("gamma:x"), gamma.body());
            HttpResponse<String> betaOld = register(f, "old", one.toString(), "", keyB);
            assertEquals("{\"name\":\"old\",\"version\":1}", betaOld.body(), "beta's own 'old' is another");
            assertEquals(List.of("alpha:z", "beta:old", "gamma:x", "old"), adapterNames(f, ADMIN));
        }
    }

    @Test
    void withoutAnAdminKeyOnlyLoopbackIsServedAndEveryoneIsAdmin() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Access.open().checkBind("0.0.0.0"));
        assertTrue(e.getMessage().contains("0.0.0.0") && e.getMessage().contains("--admin-key"), e.getMessage());
        assertDoesNotThrow(() -> Access.open().checkBind("127.0.0.1"));
        assertDoesNotThrow(() -> Access.open().checkBind("localhost"));
        assertDoesNotThrow(() -> new Access("k", List.of()).checkBind("0.0.0.0"));
        try (ServerFixture f = start("server", tmp.resolve("state"), Access.open())) {
            assertEquals(200, f.send("GET", "/metrics", null, null).statusCode());
            HttpResponse<String> t = f.send("POST", "/v1/tenants", "{\"name\": \"t1\"}", null);
            assertEquals(200, t.statusCode(), t.body());
            assertTrue(ServerFixture.json(t.body()).get("api_key").asText().startsWith(Tenants.KEY_PREFIX));
            assertEquals(200, register(f, "any", f.adapterA.toString(), "", null).statusCode());
            assertTrue(modelIds(f, null).contains("any"));
        }
    }
}
