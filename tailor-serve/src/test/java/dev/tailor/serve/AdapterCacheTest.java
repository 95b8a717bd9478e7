package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.AdapterSize;
import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.adapt.lora.LoraLayer;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registry's versions load on first use into an LRU cache with a byte budget: with 1,000 registered adapters and
 * room for four, requests to a hundred of them (one by one, side by side, stacked) all succeed with the right adapter
 * while the cache never holds more than its budget; a pinned version is never evicted; a cold request is a miss and
 * a warm one a hit; a request keeps its view when its version is evicted; a restarted server comes back with every
 * version, its pins loaded and the rest loaded lazily; a budget smaller than one adapter fails no request; and a
 * version whose stored files went bad fails only its own requests, naming it. In SQLite here;
 * {@link PostgresAdapterCacheTest} runs the same on PostgreSQL.
 */
class AdapterCacheTest {
    private static final int REGISTERED = 1000;
    private static final String PROMPT = "Hello";
    private static final int MAX_TOKENS = 2;

    @TempDir
    Path tmp;

    /** The registry database's JDBC URL, or null for SQLite in the state directory. */
    String database() {
        return null;
    }

    /** A LoRA of rank 1 on layer 0's q_proj, B random enough to change the greedy text, saved in {@code dir}. */
    private static Path smallLora(PretrainedModel base, Path dir, long seed) {
        LoraModel m = LoraModel.create(new LoraConfig(1, 2, 0, List.of("q_proj"), false, List.of(0)),
                base.model().config(), seed);
        SplittableRandom rnd = new SplittableRandom(seed + 1000);
        for (LoraLayer layer : m.modules().values()) {
            Parameter b = layer.parameters().get(1);
            for (int i = 0; i < b.size(); i++) {
                b.data()[i] = (float) rnd.nextDouble(-4, 4);
            }
        }
        m.save(dir, ServerFixture.BASE, BaseFingerprint.compute(base.dir()));
        return dir;
    }

    /** Registered adapter {@code i}: even ones hold adapter x, odd ones adapter y. */
    private static String name(int i) {
        return "n" + i;
    }

    private static HttpResponse<String> completion(ServerFixture f, String model) throws Exception {
        return f.post("/v1/completions", "{\"model\": \"" + model + "\", \"prompt\": \"" + PROMPT
                + "\", \"max_tokens\": " + MAX_TOKENS + ", \"temperature\": 0}");
    }

    private static String text(ServerFixture f, String model) throws Exception {
        HttpResponse<String> r = completion(f, model);
        assertEquals(200, r.statusCode(), model + ": " + r.body());
        return ServerFixture.json(r.body()).at("/choices/0/text").asText();
    }

    /** Version 1 of {@code name} as {@code GET /v1/adapters/{name}} shows it. */
    private static JsonNode first(ServerFixture f, String name) throws Exception {
        HttpResponse<String> r = f.get("/v1/adapters/" + name);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode v = ServerFixture.json(r.body()).get("versions").get(0);
        assertEquals(1, v.get("version").asInt(), r.body());
        return v;
    }

    private static void assertState(ServerFixture f, String name, boolean pinned, boolean loaded) throws Exception {
        JsonNode v = first(f, name);
        assertEquals(pinned, v.get("pinned").asBoolean(), name + " pinned: " + v);
        assertEquals(loaded, v.get("loaded").asBoolean(), name + " loaded: " + v);
    }

    private static String scrape(ServerFixture f) throws Exception {
        HttpResponse<String> r = f.get("/metrics");
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static double delta(String before, String after, String metric) {
        return OperationsTest.sample(after, metric) - OperationsTest.sample(before, metric);
    }

    /**
     * Adds versions {@code name(from)} … {@code name(REGISTERED - 1)} to the registry in {@code state}, each a copy of
     * version 1 of {@code n0} (even) or {@code n1} (odd) with its prod alias, in one transaction: through the API each
     * registration commits twice to SQLite and takes 10 to 25 ms here, too slow for a thousand in a unit test. The
     * registry then holds what registering the same files under those names would have recorded.
     */
    private void registerCopies(Path state, int from) throws Exception {
        try (Connection c = DriverManager.getConnection(database() != null ? database()
                : "jdbc:sqlite:" + state.resolve("registry.db"))) {
            c.setAutoCommit(false);
            try (PreparedStatement version = c.prepareStatement("INSERT INTO adapter_version (name, version, "
                    + "sha256, method, rank, bytes, base_fingerprint, created) SELECT ?, 1, sha256, method, rank, "
                    + "bytes, base_fingerprint, created FROM adapter_version WHERE name = ? AND version = 1");
                 PreparedStatement prod = c.prepareStatement("INSERT INTO alias_move (name, alias, version, moved) "
                         + "VALUES (?, 'prod', 1, 0)")) {
                for (int i = from; i < REGISTERED; i++) {
                    version.setString(1, name(i));
                    version.setString(2, name(i % 2));
                    assertEquals(1, version.executeUpdate());
                    prod.setString(1, name(i));
                    prod.executeUpdate();
                }
            }
            c.commit();
        }
    }

    /** Samples the cache's bytes until stopped, keeping the most seen. */
    private static final class Watcher implements AutoCloseable {
        final AtomicLong most = new AtomicLong();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        Watcher(AdapterCache cache) {
            thread = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    most.accumulateAndGet(cache.bytes(), Math::max);
                    LockSupport.parkNanos(1_000_000);
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join();
        }
    }

    @Test
    void aThousandAdaptersServeFromACacheOfAFewPinsSurviveARestartAndNoRequestFailsForRoom() throws Exception {
        Path state = tmp.resolve("state");
        long each;
        String textX;
        String textY;
        String textXY;
        try (ServerFixture f = ServerFixture.start(tmp.resolve("first"), ServerOptions.defaults(), state, database(),
                Access.open(), ServedModels.DEFAULT_ADAPTER_CACHE_BYTES)) {
            Path x = smallLora(f.pretrained, tmp.resolve("x"), 1);
            Path y = smallLora(f.pretrained, tmp.resolve("y"), 2);
            each = AdapterSize.bytes(AdapterFiles.load(x).forInference());
            assertEquals(4 * (64 + 64 + 64), each,
                    "r 1 on one 64 x 64 projection: A [1, 64], B [64, 1] and the Bᵀ held to serve it, in float32");
            f.server.models().load("x", x, false);
            f.server.models().load("y", y, false);
            textX = text(f, "x");
            textY = text(f, "y");
            textXY = text(f, "x+y");
            assertNotEquals(textX, textY, "the two adapters answer differently");

            assertEquals(200, f.put("/v1/adapters/n0", "{\"path\": \"" + x + "\", \"preload\": true}").statusCode());
            assertEquals(200, f.put("/v1/adapters/n1", "{\"path\": \"" + y + "\"}").statusCode());
            assertEquals(200, f.put("/v1/adapters/n2", "{\"path\": \"" + x + "\", \"pin\": true}").statusCode());
            assertState(f, "n0", false, true);
            assertState(f, "n1", false, false);
            assertState(f, "n2", true, true);
            assertEquals(2, f.server.models().cache().size(), "registering checks n1 and drops it");
        }
        registerCopies(state, 3);

        long budget = 4 * each + each / 2;
        try (ServerFixture f = ServerFixture.start(tmp.resolve("second"), ServerOptions.defaults(), state, database(),
                Access.open(), budget)) {
            ServedModels models = f.server.models();
            AdapterCache cache = models.cache();
            assertEquals(REGISTERED, models.registered().size());
            assertEquals(1, cache.size(), "a restart loads the pinned version only");
            assertState(f, "n2", true, true);
            assertState(f, "n0", false, false);

            try (Watcher watcher = new Watcher(cache)) {
                String before = scrape(f);
                assertEquals(textX, text(f, "n10"));
                String cold = scrape(f);
                assertEquals(1, delta(before, cold, "tailor_adapter_cache_misses_total"), "a cold request misses");
                assertEquals(0, delta(before, cold, "tailor_adapter_cache_hits_total"));
                assertEquals(1, delta(before, cold, "tailor_adapter_load_seconds_count"), "and is timed");
                assertEquals(textX, text(f, "n10"));
                String warm = scrape(f);
                assertEquals(1, delta(cold, warm, "tailor_adapter_cache_hits_total"), "a warm request hits");
                assertEquals(0, delta(cold, warm, "tailor_adapter_cache_misses_total"));
                assertState(f, "n10", false, true);

                for (int i = 0; i < 60; i++) {
                    int n = 3 + (i * 37) % (REGISTERED - 3);
                    assertEquals(n % 2 == 0 ? textX : textY, text(f, name(n)), name(n));
                    assertTrue(cache.bytes() <= budget, cache.bytes() + " bytes after " + name(n));
                    assertTrue(cache.loaded("n2@1"), "the pinned version is never evicted");
                }
                assertState(f, "n10", false, false);

                ExecutorService pool = Executors.newFixedThreadPool(8);
                try {
                    List<Future<String>> texts = new ArrayList<>();
                    for (int i = 0; i < 24; i++) {
                        String model = name(500 + i);
                        texts.add(pool.submit(() -> text(f, model)));
                    }
                    for (int i = 0; i < texts.size(); i++) {
                        assertEquals(i % 2 == 0 ? textX : textY, texts.get(i).get(), name(500 + i));
                    }
                } finally {
                    pool.shutdown();
                }
                assertEquals(textXY, text(f, "n30+n31"), "a stack of two cold versions");

                LlamaModel held = models.resolve("n20");
                for (int i = 0; i < 5; i++) {
                    text(f, name(600 + i));
                }
                assertFalse(cache.loaded("n20@1"), "n20 was evicted");
                assertEquals(textX, f.greedy(held, PROMPT, MAX_TOKENS).text(), "a view outlives its eviction");

                String after = scrape(f);
                assertTrue(OperationsTest.sample(after, "tailor_adapter_cache_evictions_total") >= 80,
                        "the cache evicted to stay within its budget");
                assertTrue(OperationsTest.sample(after, "tailor_adapter_cache_bytes") <= budget);
                assertEquals(budget, OperationsTest.sample(after, "tailor_adapter_cache_budget_bytes"));
                assertEquals(2 + cache.size(), OperationsTest.sample(after, "tailor_adapters_loaded"),
                        "a and b, loaded by name, and the cached versions");
                watcher.close();
                assertTrue(watcher.most.get() <= budget, "the most the cache held: " + watcher.most.get());
                assertTrue(watcher.most.get() >= 4 * each, "it filled up: " + watcher.most.get());
            }

            HttpResponse<String> unpinned = f.post("/v1/adapters/n2/versions/1/unpin", "");
            assertEquals(200, unpinned.statusCode(), unpinned.body());
            assertFalse(ServerFixture.json(unpinned.body()).get("pinned").asBoolean(), unpinned.body());
            HttpResponse<String> pinned = f.post("/v1/adapters/n5/versions/1/pin", "");
            assertEquals(200, pinned.statusCode(), pinned.body());
            assertTrue(ServerFixture.json(pinned.body()).get("loaded").asBoolean(), pinned.body());
            assertEquals(404, f.post("/v1/adapters/n5/versions/2/pin", "").statusCode());
            assertEquals(404, f.post("/v1/adapters/nope/versions/1/pin", "").statusCode());
        }

        try (ServerFixture f = ServerFixture.start(tmp.resolve("third"), ServerOptions.defaults(), state, database(),
                Access.open(), 1)) {
            AdapterCache cache = f.server.models().cache();
            assertState(f, "n5", true, true);
            assertState(f, "n2", false, false);
            assertEquals(each, cache.bytes(), "only the pinned version holds the cache above its budget");
            assertEquals(textY, text(f, "n41"), "no request fails for lack of room");
            assertEquals(textXY, text(f, "n40+n41"));
            assertEquals(each, cache.bytes(), "the versions a request needed leave once it has its view");
            assertEquals(textY, text(f, "n5"), "the pinned version serves");

            // a version whose stored files went bad after registration fails its requests alone, naming it
            Path z = smallLora(f.pretrained, tmp.resolve("z"), 3);
            assertEquals(200, f.put("/v1/adapters/z", "{\"path\": \"" + z + "\"}").statusCode());
            Files.write(state.resolve("store/sha256").resolve(first(f, "z").get("sha256").asText())
                    .resolve("adapter_model.safetensors"), new byte[] {1, 2, 3});
            for (HttpResponse<String> r : List.of(completion(f, "z"), f.post("/v1/adapters/z/versions/1/pin", ""))) {
                assertEquals(500, r.statusCode(), r.body());
                JsonNode error = ServerFixture.json(r.body()).get("error");
                assertEquals("adapter_load_failed", error.get("code").asText(), r.body());
                assertTrue(error.get("message").asText().contains("z@1"), r.body());
            }
            assertState(f, "z", false, false);
            assertEquals(textY, text(f, "n41"), "the others still serve");
        }
    }
}
