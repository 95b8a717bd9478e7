package dev.tailor.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.compacter.CompacterModel;
import dev.tailor.generate.Generator;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.PretrainedModel;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tailor train --method compacter|compacter++} on the tiny Llama, and {@code generate --adapter} with the result. */
class CompacterTrainCommandTest extends TinyModelCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();


    /** Runs the CLI capturing System.out (generate streams there) and the error writer. */
    private Run run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = cli();
            return new Run(cl.execute(args), out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(saved);
        }
    }

    private record Run(int code, String out) {
    }

    @Test
    void compacterTrainingLowersTheLossAndGenerateLoadsTheAdapter() throws Exception {
        Path out = dir.resolve("compacter");
        assertEquals(0, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                out.toString(), "--method", "compacter", "--reduction-factor", "16", "--steps", "12",
                "--batch-size", "2", "--seq-len", "64", "--lr", "1e-2", "--schedule", "constant").code(),
                err.toString());
        assertTrue(err.toString().contains("Compacter phm_dim=4 phm_rank=1 reduction_factor=16 on 4 sites: 880 "
                + "trainable"), err.toString());
        List<Double> losses = TrainCommandTest.losses(out.resolve("metrics.jsonl"));
        assertEquals(12, losses.size());
        assertTrue((losses.get(10) + losses.get(11)) / 2 < (losses.get(0) + losses.get(1)) / 2 - 0.1,
                losses.toString());
        assertFalse(Files.exists(out.resolve("model.safetensors")), "only the adapter is saved");
        assertEquals(BaseFingerprint.compute(model), AdapterFiles.baseFingerprint(out));
        CompacterModel saved = assertInstanceOf(CompacterModel.class, AdapterFiles.load(out));
        assertEquals(16, saved.settings().reductionFactor());

        String prompt = "Call me Ishmael. Some years ago";
        Run adapted = run("generate", "--model", model.toString(), "--adapter", out.toString(), "--prompt", prompt,
                "--max-tokens", "12");
        assertEquals(0, adapted.code(), err.toString());
        try (PretrainedModel m = PretrainedModel.load(model)) {
            String expected = new Generator(m.model().withAdapters(List.of(saved.sites())), m.tokenizer(), m.eosIds())
                    .generate().prompt(prompt).maxTokens(12).run().text();
            assertEquals(expected + System.lineSeparator(), adapted.out());
        }
        Run plain = run("generate", "--model", model.toString(), "--prompt", prompt, "--max-tokens", "12");
        assertNotEquals(plain.out(), adapted.out(), "the trained adapter changes the continuation");
    }

    @Test
    void compacterPlusPlusTrainsOnlyAfterTheMlp() throws Exception {
        Path out = dir.resolve("compacter-pp");
        assertEquals(0, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                out.toString(), "--method", "compacter++", "--reduction-factor", "8", "--phm-dim", "2",
                "--phm-rank", "2", "--steps", "2", "--batch-size", "2", "--seq-len", "32").code(), err.toString());
        // 2³ + 2 sites · 5 · (64 + 8)
        assertTrue(err.toString().contains("Compacter++ phm_dim=2 phm_rank=2 reduction_factor=8 on 2 sites: 728 "
                + "trainable"), err.toString());
        assertEquals("compacter++", JSON.readTree(out.resolve("adapter_config.json").toFile())
                .get("architecture").asText());
    }

    @Test
    void theDefaultReductionFactorIsRefusedOnTheTinyModelWithASuggestion() {
        assertEquals(2, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                dir.resolve("x").toString(), "--method", "compacter", "--steps", "1").code());
        assertTrue(err.toString().contains("--reduction-factor 32 = 2 bottleneck features")
                && err.toString().contains("try --reduction-factor 16"), err.toString());
        assertEquals(2, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                dir.resolve("y").toString(), "--method", "compacter+", "--steps", "1").code());
        assertTrue(err.toString().contains("compacter or compacter++, got compacter+"), err.toString());
    }
}
