package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.PretrainedModel;
import dev.tailor.train.Evaluator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generate and eval commands end to end on the tiny Llama, and their errors. */
class GenerateAndEvalCommandTest {
    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    /** Runs the CLI capturing System.out (commands stream there) and the picocli error writer. */
    private Run run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = TailorCommand.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(saved);
        }
    }

    private record Run(int code, String out) {
    }

    @Test
    void generateStreamsTheGreedyContinuation() {
        Path model = Shared.require("models/tiny-llama");
        Run r = run("generate", "--model", model.toString(), "--prompt", "Once upon a time", "--max-tokens", "12");
        assertEquals(0, r.code(), err.toString());
        try (PretrainedModel m = PretrainedModel.load(model)) {
            String expected = new dev.tailor.generate.Generator(m).generate().prompt("Once upon a time")
                    .maxTokens(12).run().text();
            assertEquals(expected + System.lineSeparator(), r.out());
        }
    }

    @Test
    void evalReportsTheMeanNllOverAllPredictedTokens() throws Exception {
        Path model = Shared.require("models/tiny-llama");
        Path data = dir.resolve("texts.jsonl");
        Files.writeString(data, "{\"text\": \"Call me Ishmael.\"}\n\n{\"text\": \"It was the best of times.\"}\n");
        Run r = run("eval", "--model", model.toString(), "--data", data.toString(), "--json");
        assertEquals(0, r.code(), err.toString());
        JsonNode json = new ObjectMapper().readTree(r.out());
        try (PretrainedModel m = PretrainedModel.load(model)) {
            Evaluator evaluator = new Evaluator(m.model(), m.tokenizer());
            int[] a = m.tokenizer().encode("Call me Ishmael.", true);
            int[] b = m.tokenizer().encode("It was the best of times.", true);
            CausalLmLoss.Total total = evaluator.sequenceLoss(a).plus(evaluator.sequenceLoss(b));
            int vocab = m.model().config().vocabSize();
            float[] logitsA = m.model().logits(m.model().forward(m.model().newCache(a.length), a), 0, a.length);
            assertEquals(CausalLmLoss.total(logitsA, vocab, a).nllSum(), evaluator.sequenceLoss(a).nllSum(), 1e-9);
            assertEquals(a.length - 1 + b.length - 1, json.get("tokens").asLong());
            assertEquals(2, json.get("sequences").asInt());
            assertEquals(total.mean(), json.get("loss").asDouble(), 1e-9);
            assertEquals(Math.exp(total.mean()), json.get("perplexity").asDouble(), 1e-6);
            assertTrue(json.get("loss").asDouble() > 5, "random weights over 32000 tokens give a high loss");
        }
    }

    @Test
    void evalNamesABadLine() throws Exception {
        Path model = Shared.require("models/tiny-llama");
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, "{\"text\": \"fine\"}\n{\"txt\": \"oops\"}\n");
        Run r = run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(1, r.code());
        assertTrue(err.toString().contains(data + ":2: missing field \"text\""), err.toString());
    }

    @Test
    void generateWithABrokenModelFailsClearly() throws Exception {
        Path model = Shared.require("models/tiny-llama");
        for (String f : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
            Files.copy(model.resolve(f), dir.resolve(f));
        }
        byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
        Files.write(dir.resolve("model.safetensors"), java.util.Arrays.copyOf(weights, weights.length / 2));
        Run r = run("generate", "--model", dir.toString(), "--prompt", "hi");
        assertEquals(1, r.code());
        assertTrue(err.toString().contains("model.safetensors"), err.toString());
        Run missing = run("generate", "--model", "no-such-org/no-such-model", "--prompt", "hi");
        assertEquals(1, missing.code());
        assertTrue(err.toString().contains("tailor pull no-such-org/no-such-model"), err.toString());
    }
}
