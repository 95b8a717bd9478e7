package dev.tailor.cli;

import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.AdapterStack;
import dev.tailor.generate.Generator;
import dev.tailor.model.PretrainedModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tailor train --method ia3|seq_bn|double_seq_bn}: the loss falls, and {@code tailor generate} loads it. */
class AdapterMethodsTrainTest extends TinyModelCliTest {


    /**
     * The losses of the untrained base on the batches every run sees (same seed, same order): an adapter at its
     * identity initialisation with a learning rate too small to move a vector of ones (1 ± 1e-30 rounds to 1).
     */
    private static List<Double> baseLosses;

    private List<Double> train(Path out, String method, String lr, String extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", data.toString(),
                "--output", out.toString(), "--method", method, "--steps", "12", "--batch-size", "2", "--seq-len", "64",
                "--lr", lr, "--schedule", "constant"));
        if (extra != null) {
            args.addAll(List.of(extra.split(" ")));
        }
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(0, run(quiet, args.toArray(String[]::new)), err.toString());
        List<Double> losses = TrainCommandTest.losses(out.resolve("metrics.jsonl"));
        assertEquals(12, losses.size());
        return losses;
    }

    private int run(PrintStream out, String... args) {
        PrintStream saved = System.out;
        System.setOut(out);
        try {
            CommandLine cl = cli();
            return cl.execute(args);
        } finally {
            System.setOut(saved);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ia3|IA3|IA³ on 6 modules (2 feed-forward)|3e-1|",
        "ia3|IA3|IA³ on 14 modules (4 feed-forward)|3e-1|--target-modules=all-linear "
                + "--feedforward-modules=down_proj,up_proj",
        "seq_bn|BOTTLENECK|bottleneck seq_bn (relu, 64→4) at 2 sites|1e-2|",
        "double_seq_bn|BOTTLENECK|bottleneck double_seq_bn (gelu, 64→8) at 4 sites|1e-2|--reduction-factor=8 "
                + "--non-linearity=gelu"})
    void trainingLowersTheLossAndGenerateLoadsTheAdapter(String method, String type, String description, String lr,
                                                         String extra) throws Exception {
        if (baseLosses == null) {
            baseLosses = train(dir.resolve("base"), "ia3", "1e-30", null);
        }
        Path out = dir.resolve(method);
        List<Double> losses = train(out, method, lr, extra);
        assertTrue(err.toString().contains(description), err.toString());
        assertEquals(baseLosses.getFirst(), losses.getFirst(), 1e-9, "the adapter starts as the identity");
        double gain = 0;
        for (int s = 8; s < 12; s++) {
            gain += (baseLosses.get(s) - losses.get(s)) / 4;
        }
        assertTrue(gain > 0.1, "mean loss below the base's over the last 4 batches: " + gain + "; base "
                + baseLosses + ", trained " + losses);
        assertFalse(Files.exists(out.resolve("model.safetensors")), "only the adapter is saved");
        assertEquals(type, AdapterFiles.config(out).get("peft_type").asText());
        assertEquals(dev.tailor.model.BaseFingerprint.compute(model), AdapterFiles.baseFingerprint(out));

        ByteArrayOutputStream text = new ByteArrayOutputStream();
        assertEquals(0, run(new PrintStream(text, true, StandardCharsets.UTF_8), "generate", "--model",
                model.toString(), "--adapter", out.toString(), "--prompt", "Call me Ishmael.", "--max-tokens", "8"),
                err.toString());
        try (PretrainedModel base = PretrainedModel.load(model)) {
            var adapted = base.model().withAdapters(AdapterStack.sites(AdapterStack.load(List.of(out), model, false)));
            String expected = new Generator(adapted, base.tokenizer(), base.eosIds()).generate()
                    .prompt("Call me Ishmael.").maxTokens(8).run().text();
            String plain = new Generator(base).generate().prompt("Call me Ishmael.").maxTokens(8).run().text();
            assertEquals(expected + System.lineSeparator(), text.toString(StandardCharsets.UTF_8));
            assertFalse(expected.equals(plain), "the trained adapter changes the greedy continuation: " + plain);
        }
    }
}
