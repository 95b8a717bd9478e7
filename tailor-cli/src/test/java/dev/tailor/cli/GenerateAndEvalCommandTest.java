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
import java.util.ArrayList;
import java.util.List;

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
            Evaluator evaluator = new Evaluator(m.model(), m.tokenizer(), null);
            int[] a = m.tokenizer().encode("Call me Ishmael.", true);
            int[] b = m.tokenizer().encode("It was the best of times.", true);
            CausalLmLoss.Total total = evaluator.sequenceLoss(a, a).plus(evaluator.sequenceLoss(b, b));
            int vocab = m.model().config().vocabSize();
            float[] logitsA = m.model().logits(m.model().forward(m.model().newCache(a.length), a), 0, a.length);
            assertEquals(CausalLmLoss.total(logitsA, vocab, a).nllSum(), evaluator.sequenceLoss(a, a).nllSum(), 1e-9);
            assertEquals(a.length - 1 + b.length - 1, json.get("tokens").asLong());
            assertEquals(2, json.get("sequences").asInt());
            assertEquals(total.mean(), json.get("loss").asDouble(), 1e-9);
            assertEquals(Math.exp(total.mean()), json.get("perplexity").asDouble(), 1e-6);
            assertTrue(json.get("loss").asDouble() > 5, "random weights over 32000 tokens give a high loss");
        }
    }

    @Test
    void evalOfClassificationDataReportsTheLabelLossAndAccuracy() throws Exception {
        Path model = Shared.require("models/tiny-llama");
        Path data = dir.resolve("spam.jsonl");
        List<String> lines = Files.readAllLines(Shared.require("data/spam.jsonl")).subList(0, 12);
        ObjectMapper json = new ObjectMapper();
        List<String> small = new ArrayList<>();
        for (String line : lines) {
            JsonNode n = json.readTree(line);
            small.add(json.writeValueAsString(json.createObjectNode()
                    .put("text", n.get("text").asText().substring(0, Math.min(200, n.get("text").asText().length())))
                    .put("label", n.get("label").asText())));
        }
        Files.write(data, small);
        Run r = run("eval", "--model", model.toString(), "--data", data.toString(), "--json");
        assertEquals(0, r.code(), err.toString());
        JsonNode out = json.readTree(r.out());
        try (PretrainedModel m = PretrainedModel.load(model)) {
            var tok = m.tokenizer();
            int eos = tok.eosIds().getFirst();
            int correct = 0;
            double nll = 0;
            long counted = 0;
            for (String line : small) {
                JsonNode n = json.readTree(line);
                int[] prompt = tok.encode(n.get("text").asText() + "\nLabel: ", true);
                String best = null;
                double bestLl = Double.NEGATIVE_INFINITY;
                for (String label : List.of("ham", "spam")) {
                    int[] completion = concat(tok.encode(label, false), eos);
                    int[] ids = concat(prompt, completion);
                    var mm = m.model();
                    float[] logits = mm.logits(mm.forward(mm.newCache(ids.length), ids), 0, ids.length);
                    double ll = 0;
                    for (int k = 0; k < completion.length; k++) {
                        int row = prompt.length - 1 + k;
                        ll -= CausalLmLoss.nll(logits, row * 32000, 32000, ids[row + 1]);
                    }
                    if (label.equals(n.get("label").asText())) {
                        nll -= ll;
                        counted += completion.length;
                    }
                    if (ll > bestLl) {
                        bestLl = ll;
                        best = label;
                    }
                }
                correct += best.equals(n.get("label").asText()) ? 1 : 0;
            }
            assertEquals((double) correct / small.size(), out.get("accuracy").asDouble(), 1e-12);
            assertEquals(counted, out.get("tokens").asLong());
            assertEquals(nll / counted, out.get("loss").asDouble(), 1e-6);
        }
    }

    private static int[] concat(int[] a, int... b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void evalNamesABadLine() throws Exception {
        Path model = Shared.require("models/tiny-llama");
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, "{\"text\": \"fine\"}\n{\"txt\": \"oops\"}\n");
        Run r = run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(2, r.code());
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
        assertEquals(2, r.code());
        assertTrue(err.toString().contains("model.safetensors"), err.toString());
        Run missing = run("generate", "--model", "no-such-org/no-such-model", "--prompt", "hi");
        assertEquals(2, missing.code());
        assertTrue(err.toString().contains("tailor pull no-such-org/no-such-model"), err.toString());
    }
}
