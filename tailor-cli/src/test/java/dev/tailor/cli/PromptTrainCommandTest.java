package dev.tailor.cli;

import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.prefix.PrefixTuningModel;
import dev.tailor.adapt.prompt.PromptTuningModel;
import dev.tailor.adapt.prompt.PromptTuningInit;
import dev.tailor.generate.Generator;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;
import dev.tailor.train.Evaluator;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tailor train --method prompt|prefix} on the tiny Llama, and {@code generate --adapter} with the result. */
class PromptTrainCommandTest extends TinyModelCliTest {


    private String run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = cli();
            assertEquals(0, cl.execute(args), err.toString());
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            System.setOut(saved);
        }
    }

    /** Mean NLL of the data with {@code adapter} on the base. */
    private double evalLoss(dev.tailor.adapt.Adapter adapter) {
        try (PretrainedModel m = PretrainedModel.load(model)) {
            LlamaModel view = m.model().withAdapters(List.of(adapter.sites()));
            return new Evaluator(view, m.tokenizer(), null).evaluate(data, null, false).loss();
        }
    }

    private Path train(String method, String... extra) throws Exception {
        Path out = dir.resolve(method);
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(),
                "--output", out.toString(), "--method", method, "--steps", "12", "--batch-size", "2", "--seq-len",
                "64", "--lr", "1e-1", "--schedule", "constant", "--num-virtual-tokens", "8"));
        args.addAll(List.of(extra));
        run(args.toArray(String[]::new));
        List<Double> losses = TrainCommandTest.losses(out.resolve("metrics.jsonl"));
        assertEquals(12, losses.size());
        double first = (losses.get(0) + losses.get(1)) / 2;
        double last = (losses.get(10) + losses.get(11)) / 2;
        assertTrue(last < first - 0.05, method + ": loss should fall: " + losses);
        return out;
    }

    @Test
    void promptTuningFromTextLowersTheLossAndGeneratesWithTheAdapter() throws Exception {
        Path out = train("prompt", "--prompt-tuning-init", "TEXT", "--prompt-tuning-init-text",
                "A passage of Moby Dick:");
        PromptTuningModel adapter = assertInstanceOf(PromptTuningModel.class, AdapterFiles.load(out));
        assertEquals(8, adapter.config().numVirtualTokens());
        assertEquals(PromptTuningInit.TEXT, adapter.config().init());
        assertTrue(err.toString().contains("prompt tuning, 8 virtual tokens"), err.toString());
        PromptTuningModel initial;
        try (PretrainedModel m = PretrainedModel.load(model)) {
            initial = PromptTuningModel.create(adapter.config(), m.model().weights().embed(), m.tokenizer(), 42);
        }
        double before = evalLoss(initial);
        double after = evalLoss(adapter);
        assertTrue(after < before - 0.05, "eval loss " + before + " -> " + after);
        String text = run("generate", "--model", model.toString(), "--adapter", out.toString(), "--prompt",
                "Call me", "--max-tokens", "10");
        try (PretrainedModel m = PretrainedModel.load(model)) {
            LlamaModel view = m.model().withAdapters(List.of(adapter.sites()));
            String expected = new Generator(view, m.tokenizer(), m.eosIds()).generate().prompt("Call me")
                    .maxTokens(10).run().text();
            String plain = new Generator(m).generate().prompt("Call me").maxTokens(10).run().text();
            assertEquals(expected + System.lineSeparator(), text);
            assertNotEquals(plain, expected, "the trained prompt changes the continuation");
        }
    }

    @Test
    void prefixTuningLowersTheLossAndSavesAPeftPrefix() throws Exception {
        Path out = train("prefix");
        PrefixTuningModel adapter = assertInstanceOf(PrefixTuningModel.class, AdapterFiles.load(out));
        assertEquals(8, adapter.config().numVirtualTokens());
        assertEquals(2 * 2 * 32, adapter.config().width());
        double before = evalLoss(PrefixTuningModel.create(adapter.config(), 42));
        double after = evalLoss(adapter);
        assertTrue(after < before - 0.05, "eval loss " + before + " -> " + after);
        StringWriter bad = new StringWriter();
        CommandLine cl = TailorCommand.commandLine();
        cl.setErr(new PrintWriter(bad, true));
        assertNotEquals(0, cl.execute("train", "--model", model.toString(), "--data", data.toString(), "--output",
                dir.resolve("bad").toString(), "--method", "prompt", "--prompt-tuning-init", "TEXT", "--steps", "1"));
        assertTrue(bad.toString().contains("--prompt-tuning-init-text"), bad.toString());
    }

    @Test
    void prefixProjectionTrainsThroughTheMlpAndSavesTheProjectedPrefix() throws Exception {
        Path out = train("prefix", "--prefix-projection", "--encoder-hidden-size", "16");
        assertTrue(err.toString().contains("trained through an MLP of 16 hidden units"), err.toString());
        PrefixTuningModel adapter = assertInstanceOf(PrefixTuningModel.class, AdapterFiles.load(out));
        assertTrue(adapter.config().prefixProjection());
        assertEquals(16, adapter.config().encoderHiddenSize());
        assertEquals(8, adapter.config().numVirtualTokens());
        double before = evalLoss(PrefixTuningModel.create(adapter.config(), 42));
        double after = evalLoss(adapter);
        assertTrue(after < before - 0.05, "eval loss " + before + " -> " + after);
        String eval = run("eval", "--model", model.toString(), "--adapter", out.toString(), "--data",
                data.toString(), "--json");
        double cliLoss = new com.fasterxml.jackson.databind.ObjectMapper().readTree(eval).get("loss").asDouble();
        assertEquals(after, cliLoss, 1e-9, "eval --adapter serves the saved prefix");
        String text = run("generate", "--model", model.toString(), "--adapter", out.toString(), "--prompt",
                "Call me", "--max-tokens", "6");
        try (PretrainedModel m = PretrainedModel.load(model)) {
            LlamaModel view = m.model().withAdapters(List.of(adapter.sites()));
            String expected = new Generator(view, m.tokenizer(), m.eosIds()).generate().prompt("Call me")
                    .maxTokens(6).run().text();
            assertEquals(expected + System.lineSeparator(), text);
        }
        StringWriter bad = new StringWriter();
        CommandLine cl = TailorCommand.commandLine();
        cl.setErr(new PrintWriter(bad, true));
        assertNotEquals(0, cl.execute("train", "--model", model.toString(), "--data", data.toString(), "--output",
                dir.resolve("bad").toString(), "--method", "prefix", "--encoder-hidden-size", "16", "--steps", "1"));
        assertTrue(bad.toString().contains("--prefix-projection"), bad.toString());
    }
}
