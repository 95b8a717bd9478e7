package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.Shared;
import dev.tailor.generate.SamplingParams;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.io.TensorInfo;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.PretrainedModel;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Numerics;
import dev.tailor.tokenizer.ChatTemplate;
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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
    void generateTakesTheOpenAiPenaltiesAndLogitBias() {
        Path model = Shared.require("models/tiny-llama");
        Run r = run("generate", "--model", model.toString(), "--prompt", "Once upon a time", "--max-tokens", "12",
                "--presence-penalty", "1.5", "--frequency-penalty", "0.5", "--logit-bias", "450=4",
                "--logit-bias", "263=-100");
        assertEquals(0, r.code(), err.toString());
        try (PretrainedModel m = PretrainedModel.load(model)) {
            SamplingParams steered = SamplingParams.GREEDY.withPenalties(1.5f, 0.5f)
                    .withLogitBias(java.util.Map.of(450, 4f, 263, -100f));
            String expected = new dev.tailor.generate.Generator(m).generate().prompt("Once upon a time")
                    .maxTokens(12).sampling(steered).run().text();
            assertEquals(expected + System.lineSeparator(), r.out());
            String plain = new dev.tailor.generate.Generator(m).generate().prompt("Once upon a time")
                    .maxTokens(12).run().text();
            assertNotEquals(plain + System.lineSeparator(), r.out(), "the options change the text");
        }
        Run bad = run("generate", "--model", model.toString(), "--prompt", "hi", "--presence-penalty", "3");
        assertEquals(2, bad.code());
        assertTrue(err.toString().contains("presencePenalty must be in [-2, 2]"), err.toString());
        Run outside = run("generate", "--model", model.toString(), "--prompt", "hi", "--logit-bias", "32000=1");
        assertEquals(2, outside.code());
        assertTrue(err.toString().contains("logit bias for token id 32000"), err.toString());
        Run stopId = run("generate", "--model", model.toString(), "--prompt", "hi", "--stop-token-id", "32000");
        assertEquals(2, stopId.code());
        assertTrue(err.toString().contains("stop token id 32000 is outside"), err.toString());
        Run fewer = run("generate", "--model", model.toString(), "--prompt", "hi", "--min-tokens", "-1");
        assertEquals(2, fewer.code());
        assertTrue(err.toString().contains("minTokens must be >= 0"), err.toString());
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

    @Test
    void evalWithANonFiniteLossPrintsValidJsonWithNullAndFails() throws Exception {
        Path tiny = Shared.require("models/tiny-llama");
        Path model = dir.resolve("overflowing");
        Files.createDirectories(model);
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(tiny.resolve(f), model.resolve(f));
        }
        try (SafetensorsFile src = SafetensorsFile.open(tiny.resolve("model.safetensors"))) {
            SafetensorsWriter out = new SafetensorsWriter();
            for (String name : src.names()) {
                TensorInfo info = src.info(name);
                float[] v = new float[Math.toIntExact(info.elementCount())];
                for (int i = 0; i < v.length; i++) {
                    v[i] = name.equals("lm_head.weight") ? 3e38f : Numerics.load(src.data(name), info.dtype(), i);
                }
                out.add(name, DType.F32, info.shape(), v);
            }
            out.write(model.resolve("model.safetensors"));
        }
        Path data = dir.resolve("texts.jsonl");
        Files.writeString(data, "{\"text\": \"Call me Ishmael.\"}\n");
        PrintStream savedErr = System.err;
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        Run r;
        try {
            r = run("eval", "--model", model.toString(), "--data", data.toString(), "--json");
        } finally {
            System.setErr(savedErr);
        }
        assertEquals(1, r.code(), "a weight of 3e38 is finite, the logits it gives are not");
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertTrue(json.get("loss").isNull() && json.get("perplexity").isNull(), r.out());
        assertTrue(stderr.toString(StandardCharsets.UTF_8).contains("error: the loss on " + data + " is NaN"),
                stderr.toString(StandardCharsets.UTF_8));
    }

    @Test
    void generateChatWithAHostileTemplateFailsInOneLine() throws Exception {
        Path model = hostileChatTemplate("{% include 'META-INF/MANIFEST.MF' %}");
        Run include = run("generate", "--model", model.toString(), "--chat", "--prompt", "hi", "--max-tokens", "1");
        assertEquals(2, include.code(), "a hostile template is bad input");
        assertEquals("error: chat template of " + model.resolve("tokenizer_config.json")
                + " uses {% include %}: includes are not allowed, a chat template must be self-contained"
                + System.lineSeparator(), err.toString());

        err.getBuffer().setLength(0);
        model = hostileChatTemplate("{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
                + "{% endfor %}{% endfor %}{% endfor %}");
        String saved = System.getProperty(ChatTemplate.Limits.TIME_BUDGET_PROPERTY);
        System.setProperty(ChatTemplate.Limits.TIME_BUDGET_PROPERTY, "200");
        long start = System.nanoTime();
        try {
            Run loops = run("generate", "--model", model.toString(), "--chat", "--prompt", "hi", "--max-tokens", "1");
            assertEquals(2, loops.code());
        } finally {
            if (saved == null) {
                System.clearProperty(ChatTemplate.Limits.TIME_BUDGET_PROPERTY);
            } else {
                System.setProperty(ChatTemplate.Limits.TIME_BUDGET_PROPERTY, saved);
            }
        }
        assertTrue((System.nanoTime() - start) / 1_000_000_000.0 < 10, "the render was not stopped");
        assertTrue(err.toString().matches("error: chat template of \\S+ exceeded its time budget of 200 ms"
                + " \\(line 1\\)\\R"), err.toString());
    }

    /** The tiny Llama with {@code template} as its chat template, in a fresh directory. */
    private Path hostileChatTemplate(String template) throws Exception {
        Path shared = Shared.require("models/tiny-llama");
        Path model = Files.createTempDirectory(dir, "hostile");
        try (var files = Files.list(shared)) {
            for (Path file : files.toList()) {
                if (!file.getFileName().toString().equals("tokenizer_config.json")) {
                    Files.createSymbolicLink(model.resolve(file.getFileName()), file.toAbsolutePath());
                }
            }
        }
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(shared.resolve("tokenizer_config.json").toFile());
        config.put("chat_template", template);
        Files.writeString(model.resolve("tokenizer_config.json"), config.toString());
        return model;
    }
}
