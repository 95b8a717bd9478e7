package dev.tailor.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.adapt.AdapterStack;
import dev.tailor.generate.GenerationResult;
import dev.tailor.model.LlamaModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * {@code "temperature": 0} gives the text {@code tailor generate --temperature 0} gives (the engine's {@code Generator}
 * on the model with the adapters stacked by {@code AdapterStack}), for the base, an adapter and a stack, one at a
 * time and several at once.
 */
class GreedyEqualityTest {
    private static final String PROMPT = "The little dog";
    private static final int MAX_TOKENS = 16;
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

    /** The engine's model with adapter directories stacked in order, as {@code tailor generate --adapter} makes it. */
    private static LlamaModel engine(Path... adapters) {
        LlamaModel base = fixture.pretrained.model();
        return adapters.length == 0 ? base : base.withAdapters(AdapterStack.sites(
                AdapterStack.load(List.of(adapters), fixture.modelDir, false)));
    }

    private static JsonNode complete(String model) throws Exception {
        HttpResponse<String> r = fixture.post("/v1/completions", """
                {"model": "%s", "prompt": "%s", "max_tokens": %d, "temperature": 0}""".formatted(model, PROMPT,
                MAX_TOKENS));
        assertEquals(200, r.statusCode(), r.body());
        return ServerFixture.json(r.body());
    }

    @Test
    void baseAdapterAndStackMatchTheEngine() throws Exception {
        Set<String> texts = new HashSet<>();
        for (var c : List.of(new Object[] {ServerFixture.BASE, new Path[0]},
                new Object[] {"a", new Path[] {fixture.adapterA}},
                new Object[] {"a+b", new Path[] {fixture.adapterA, fixture.adapterB}},
                new Object[] {"b+a", new Path[] {fixture.adapterB, fixture.adapterA}})) {
            String model = (String) c[0];
            GenerationResult expected = fixture.greedy(engine((Path[]) c[1]), PROMPT, MAX_TOKENS);
            JsonNode body = complete(model);
            assertEquals(expected.text(), body.at("/choices/0/text").asText(), model);
            assertEquals(expected.tokenIds().length, body.at("/usage/completion_tokens").asInt(), model);
            assertEquals(expected.promptTokens() + expected.tokenIds().length, body.at("/usage/total_tokens").asInt());
            texts.add(expected.text());
        }
        assertEquals(3, texts.size(), "a and a+b each change the text (LoRA's sum makes b+a as a+b): " + texts);
    }

    @Test
    void concurrentRequestsEachGetTheirOwnText() throws Exception {
        String base = fixture.greedy(engine(), PROMPT, MAX_TOKENS).text();
        String a = fixture.greedy(engine(fixture.adapterA), PROMPT, MAX_TOKENS).text();
        assertNotEquals(base, a);
        try (ExecutorService pool = Executors.newFixedThreadPool(6)) {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                String model = i % 2 == 0 ? ServerFixture.BASE : "a";
                results.add(pool.submit(() -> complete(model).at("/choices/0/text").asText()));
            }
            for (int i = 0; i < results.size(); i++) {
                assertEquals(i % 2 == 0 ? base : a, results.get(i).get(), "request " + i);
            }
        }
    }
}
