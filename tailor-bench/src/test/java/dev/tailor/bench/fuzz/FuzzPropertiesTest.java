package dev.tailor.bench.fuzz;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;


import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fuzz targets as jqwik properties, each with a fixed seed so the suite is repeatable: every trial keeps its
 * loader's property ({@link Fuzzer}). jqwik draws the trial seeds; a failure reports the finding with its reproducer.
 * Longer runs with fresh seeds: {@code tailor bench fuzz}.
 */
class FuzzPropertiesTest {
    private static final Fuzzer FUZZER = new Fuzzer();

    @AfterContainer
    static void stop() {
        FUZZER.close();
    }

    private static void holds(String target, long seed) {
        FUZZER.trial(Targets.byName(target), seed).ifPresent(f -> fail(f.toString()));
    }

    @Property(tries = 400, seed = "20250101")
    void modelConfigsLoadOrAreRefusedNamingTheFile(@ForAll long seed) {
        holds("model-config", seed);
    }

    @Property(tries = 300, seed = "20250102")
    void tokenizersLoadAndEncodeOrAreRefusedNamingTheFile(@ForAll long seed) {
        holds("tokenizer", seed);
    }

    @Property(tries = 400, seed = "20250103")
    void safetensorsFilesOpenOrAreRefusedNamingTheFile(@ForAll long seed) {
        holds("safetensors", seed);
    }

    @Property(tries = 300, seed = "20250104")
    void adapterConfigsLoadOrAreRefusedNamingTheFile(@ForAll long seed) {
        holds("adapter-config", seed);
    }

    @Property(tries = 300, seed = "20250105")
    void methodOptionsMakeAnAdapterOrAreRefusedNamingTheOption(@ForAll long seed) {
        holds("method-options", seed);
    }

    @Property(tries = 200, seed = "20250106")
    void jsonLinesLoadOrAreRefusedNamingTheFile(@ForAll long seed) {
        holds("jsonl", seed);
    }

    @Property(tries = 200, seed = "20250107")
    void chatTemplatesRenderOrAreRefused(@ForAll long seed) {
        holds("chat-template", seed);
    }

    @Property(tries = 400, seed = "20250108")
    void ggufFilesLoadAndRunOrAreRefusedNamingTheFile(@ForAll long seed) {
        holds("gguf", seed);
    }

    @Property(tries = 300, seed = "20250109")
    void checkpointsResumeOrAreRefusedNamingTheFile(@ForAll long seed) {
        holds("checkpoint", seed);
    }
}
