package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.LlamaModel;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tailor train}: full and partial fine-tuning on the tiny Llama, recipes, bad data. */
class TrainCommandTest extends TinyModelCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();


    int run(String... args) {
        CommandLine cl = cli();
        return cl.execute(args);
    }

    static List<Double> losses(Path metrics) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            JsonNode n = JSON.readTree(line);
            if (n.has("loss")) {
                out.add(n.get("loss").asDouble());
            }
        }
        return out;
    }

    @Test
    void fullFineTuningLowersTheLossAndSavesALoadableModel() throws Exception {
        Path out = dir.resolve("full");
        assertEquals(0, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                out.toString(), "--steps", "12", "--batch-size", "2", "--seq-len", "64", "--lr", "3e-3",
                "--schedule", "constant"), err.toString());
        List<Double> losses = losses(out.resolve("metrics.jsonl"));
        assertEquals(12, losses.size());
        double first = (losses.get(0) + losses.get(1)) / 2;
        double last = (losses.get(10) + losses.get(11)) / 2;
        assertTrue(last < first - 0.3, "loss should fall: " + losses);
        try (LlamaModel trained = LlamaModel.load(out); SafetensorsFile base = SafetensorsFile.open(model.resolve("model.safetensors"));
             SafetensorsFile saved = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertEquals(base.names(), saved.names());
            assertFalse(base.data("model.layers.0.mlp.up_proj.weight").mismatch(
                    saved.data("model.layers.0.mlp.up_proj.weight")) == -1, "weights changed");
            assertEquals(2, trained.config().numLayers());
        }
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
        assertTrue(Files.isDirectory(out.resolve("training_state").resolve("checkpoint-12")));
    }

    @Test
    void partialFineTuningChangesOnlyTheChosenTensors() throws Exception {
        Path out = dir.resolve("partial");
        assertEquals(0, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                out.toString(), "--steps", "3", "--batch-size", "2", "--seq-len", "64", "--lr", "1e-3",
                "--method", "partial", "--train-layers", "1-1", "--train-modules", "mlp.*"), err.toString());
        assertTrue(err.toString().contains("backward stops at layer 1"), err.toString());
        try (SafetensorsFile base = SafetensorsFile.open(model.resolve("model.safetensors"));
             SafetensorsFile saved = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            for (String name : base.names()) {
                boolean same = base.data(name).mismatch(saved.data(name)) == -1;
                boolean trained = name.startsWith("model.layers.1.mlp.");
                assertEquals(!trained, same, name);
            }
        }
    }

    @Test
    void bitFitTrainsOnlyNorms() throws Exception {
        Path out = dir.resolve("bitfit");
        assertEquals(0, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                out.toString(), "--steps", "2", "--batch-size", "2", "--seq-len", "64", "--lr", "1e-2",
                "--method", "partial", "--bias-norm-only", "--train-head"), err.toString());
        try (SafetensorsFile base = SafetensorsFile.open(model.resolve("model.safetensors"));
             SafetensorsFile saved = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            for (String name : base.names()) {
                boolean same = base.data(name).mismatch(saved.data(name)) == -1;
                boolean trained = name.endsWith("norm.weight") || name.equals("lm_head.weight");
                assertEquals(!trained, same, name);
            }
        }
    }

    @Test
    void recipeValuesApplyAndFlagsOverrideThem() throws Exception {
        Path recipe = dir.resolve("recipe.yaml");
        Files.writeString(recipe, "steps: 5\nbatch_size: 2\nseq-len: 64\nlr: 0.001\nschedule: cosine\n"
                + "output: " + dir.resolve("from-recipe") + "\n");
        Path out = dir.resolve("flag-wins");
        assertEquals(0, run("train", "--recipe", recipe.toString(), "--model", model.toString(), "--data",
                data.toString(), "--steps", "3", "--output", out.toString()), err.toString());
        assertEquals(3, losses(out.resolve("metrics.jsonl")).size());
        JsonNode firstLine = JSON.readTree(Files.readAllLines(out.resolve("metrics.jsonl")).getFirst());
        assertEquals(64 * 2, firstLine.get("tokens").asInt());
        assertFalse(Files.exists(dir.resolve("from-recipe")));
    }

    @Test
    void gradientAccumulationEqualsTheLargerBatch() throws Exception {
        Path big = dir.resolve("batch2");
        Path accumulated = dir.resolve("accum2");
        String[] common = {"train", "--model", model.toString(), "--data", data.toString(), "--steps", "3",
                "--seq-len", "64", "--lr", "1e-3"};
        assertEquals(0, run(concat(common, "--batch-size", "2", "--output", big.toString())), err.toString());
        assertEquals(0, run(concat(common, "--batch-size", "1", "--grad-accum", "2", "--output",
                accumulated.toString())), err.toString());
        assertEquals(losses(big.resolve("metrics.jsonl")), losses(accumulated.resolve("metrics.jsonl")));
        assertArrayEquals(Files.readAllBytes(big.resolve("model.safetensors")),
                Files.readAllBytes(accumulated.resolve("model.safetensors")));
    }

    @Test
    void trainingFromScratchBuildsAModelOfTheGivenConfig() throws Exception {
        Path config = dir.resolve("config.json");
        Files.writeString(config, "{\"model_type\": \"llama\", \"hidden_size\": 32, \"intermediate_size\": 64, "
                + "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
                + "\"vocab_size\": 32000, \"max_position_embeddings\": 128, \"tie_word_embeddings\": true}");
        Path out = dir.resolve("scratch");
        assertEquals(0, run("train", "--init", "random", "--config", config.toString(), "--tokenizer",
                model.toString(), "--data", data.toString(), "--output", out.toString(), "--steps", "8",
                "--batch-size", "2", "--seq-len", "64", "--lr", "1e-2", "--schedule", "constant"), err.toString());
        List<Double> losses = losses(out.resolve("metrics.jsonl"));
        assertEquals(Math.log(32000), losses.getFirst(), 0.2, "a fresh model starts near uniform");
        assertTrue(losses.getLast() < losses.getFirst() - 0.5, losses.toString());
        try (LlamaModel trained = LlamaModel.load(out); SafetensorsFile saved = SafetensorsFile.open(
                out.resolve("model.safetensors"))) {
            assertEquals(32, trained.config().hiddenSize());
            assertFalse(saved.contains("lm_head.weight"), "tied embeddings are saved once");
        }
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
    }

    @Test
    void doraWithDropoutGaussianInitAndARegexTargetTrainsAndSavesPeftsConfig() throws Exception {
        Path out = dir.resolve("dora");
        assertEquals(0, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                out.toString(), "--method", "dora", "--r", "4", "--lora-alpha", "8", "--lora-dropout", "0.1",
                "--target-modules", ".*\\.(q|v)_proj", "--bias", "all", "--init-lora-weights", "gaussian",
                "--steps", "6", "--batch-size", "2", "--seq-len", "64", "--lr", "1e-2", "--schedule", "constant"),
                err.toString());
        assertTrue(err.toString().contains("DoRA r=4 on 4 modules"), err.toString());
        List<Double> losses = losses(out.resolve("metrics.jsonl"));
        assertTrue(losses.get(5) < losses.get(0), losses.toString());
        JsonNode config = JSON.readTree(out.resolve("adapter_config.json").toFile());
        assertTrue(config.get("use_dora").asBoolean());
        assertEquals("all", config.get("bias").asText());
        assertEquals("gaussian", config.get("init_lora_weights").asText());
        assertEquals(0.1, config.get("lora_dropout").asDouble());
        assertEquals(".*\\.(q|v)_proj", config.get("target_modules").asText());
        var loaded = (dev.tailor.adapt.lora.LoraModel) dev.tailor.adapt.AdapterFiles.load(out);
        assertEquals(4, loaded.magnitudes().size());

        assertEquals(2, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                dir.resolve("bad").toString(), "--method", "lora", "--bias", "some"));
        assertTrue(err.toString().contains("none, lora_only or all"), err.toString());
    }

    @Test
    void loraTrainingWritesAPeftAdapterAndLeavesTheBaseAlone() throws Exception {
        Path out = dir.resolve("lora");
        assertEquals(0, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                out.toString(), "--method", "lora", "--r", "4", "--lora-alpha", "8", "--target-modules", "all-linear",
                "--steps", "12", "--batch-size", "2", "--seq-len", "64", "--lr", "1e-2", "--schedule", "constant"),
                err.toString());
        assertTrue(err.toString().contains("LoRA r=4 on 14 modules"), err.toString());
        List<Double> losses = losses(out.resolve("metrics.jsonl"));
        assertTrue((losses.get(10) + losses.get(11)) / 2 < (losses.get(0) + losses.get(1)) / 2 - 0.1, losses.toString());
        assertFalse(Files.exists(out.resolve("model.safetensors")), "only the adapter is saved");
        assertEquals(dev.tailor.model.BaseFingerprint.compute(model),
                dev.tailor.adapt.lora.LoraFiles.baseFingerprint(out));
        assertEquals(14, dev.tailor.adapt.lora.LoraFiles.load(out).size());

        Path evalData = dir.resolve("eval.jsonl");
        Files.write(evalData, Files.readAllLines(data).subList(0, 6));
        Path otherBase = dir.resolve("other-base");
        Files.createDirectories(otherBase);
        for (String f : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
            Files.copy(model.resolve(f), otherBase.resolve(f));
        }
        byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
        weights[weights.length - 5] ^= 0x40;
        Files.write(otherBase.resolve("model.safetensors"), weights);
        assertEquals(2, run("eval", "--model", otherBase.toString(), "--data", evalData.toString(), "--adapter",
                out.toString()));
        assertTrue(err.toString().contains("was trained on base") && err.toString().contains("--force"), err.toString());
        assertEquals(0, run("eval", "--model", otherBase.toString(), "--data", evalData.toString(), "--adapter",
                out.toString(), "--force"), err.toString());

        Path merged = dir.resolve("merged");
        assertEquals(0, run("adapters", "merge", "--model", model.toString(), "--adapter", out.toString(),
                "--output", merged.toString()), err.toString());
        try (LlamaModel base = LlamaModel.load(model); LlamaModel standalone = LlamaModel.load(merged)) {
            var adapted = base.withAdapters(dev.tailor.adapt.AdapterStack.sites(
                    dev.tailor.adapt.AdapterStack.load(List.of(out), model, false)));
            int[] ids = {1, 450, 4996, 17354, 1701, 432};
            float[] a = adapted.logits(adapted.forward(adapted.newCache(6), ids), 0, 6);
            float[] m = standalone.logits(standalone.forward(standalone.newCache(6), ids), 0, 6);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], m[i], 2e-5, "logit " + i);
            }
        }
    }

    @Test
    void hybridAdaptersOnAFineTunedBaseRecordItsFingerprintAndAreRefusedOnTheOriginal() throws Exception {
        Path domain = dir.resolve("domain");
        assertEquals(0, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                domain.toString(), "--steps", "3", "--batch-size", "2", "--seq-len", "64", "--lr", "3e-3"),
                err.toString());
        Path client = dir.resolve("client");
        assertEquals(0, run("train", "--model", domain.toString(), "--data", data.toString(), "--output",
                client.toString(), "--method", "lora", "--r", "4", "--steps", "3", "--batch-size", "2",
                "--seq-len", "64", "--lr", "1e-2"), err.toString());
        String recorded = dev.tailor.adapt.AdapterFiles.baseFingerprint(client);
        assertEquals(dev.tailor.model.BaseFingerprint.compute(domain), recorded);
        assertFalse(recorded.equals(dev.tailor.model.BaseFingerprint.compute(model)), "the fine-tuned base is another base");
        assertEquals(0, run("generate", "--model", domain.toString(), "--adapter", client.toString(), "--prompt",
                "Call me", "--max-tokens", "3"), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(2, run("generate", "--model", model.toString(), "--adapter", client.toString(), "--prompt",
                "Call me", "--max-tokens", "3"));
        assertTrue(err.toString().contains(recorded) && err.toString().contains("--force"), err.toString());
    }

    @Test
    void badDataNamesTheLine() throws Exception {
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"fine\"}\n{\"text\": 42}\n");
        assertEquals(2, run("train", "--model", model.toString(), "--data", bad.toString(), "--output",
                dir.resolve("x").toString(), "--steps", "1"));
        assertTrue(err.toString().contains(bad + ":2"), err.toString());
        assertEquals(2, run("train", "--model", model.toString(), "--data", data.toString(), "--output",
                dir.resolve("y").toString(), "--steps", "1", "--method", "partial"));
        assertTrue(err.toString().contains("partial fine-tuning needs"), err.toString());
    }

    @Test
    void resumeAfterKillMinusNineGivesTheSameWeightsAndLosses() throws Exception {
        String[] common = {"train", "--model", model.toString(), "--data", data.toString(), "--steps", "24",
                "--batch-size", "2", "--seq-len", "128", "--lr", "1e-3", "--save-every", "2", "--keep-checkpoints", "2",
                "--schedule", "cosine", "--warmup-steps", "3", "--log-every", "1"};
        Path straight = dir.resolve("straight");
        assertEquals(0, run(concat(common, "--output", straight.toString())), err.toString());

        Path killed = dir.resolve("killed");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), TailorCommand.class.getName()));
        cmd.addAll(List.of(concat(common, "--output", killed.toString())));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();
        Path marker = killed.resolve("training_state").resolve("checkpoint-6");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!Files.exists(marker) && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(child.isAlive(), "the child must still be training when killed: "
                + Files.readString(dir.resolve("child.log")));
        child.destroyForcibly().waitFor();
        assertFalse(Files.exists(killed.resolve("model.safetensors")), "killed before the end");

        assertEquals(0, run(concat(common, "--output", killed.toString(), "--resume")), err.toString());
        assertTrue(err.toString().contains("resumed from checkpoint-"), err.toString());
        assertEquals(losses(straight.resolve("metrics.jsonl")), losses(killed.resolve("metrics.jsonl")));
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")),
                Files.readAllBytes(killed.resolve("model.safetensors")));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
