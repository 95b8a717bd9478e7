package dev.tailor.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.GoldenTensors;
import dev.tailor.Shared;
import dev.tailor.adapt.AdapterMerge;
import dev.tailor.adapt.AdapterStack;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.gguf.GgmlType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * llama.cpp itself (the peer's {@code probs} mode: node-llama-cpp's prebuilt binaries) loads the GGUF files Tailor
 * exports, here the tiny model with a LoRA adapter merged, and scores every position of a sequence as Tailor scores
 * the same file: to float rounding in F32 (7e-6 measured, 1e-4 allowed), and within llama.cpp's rounding of the
 * activations to Q8_0 blocks before each quantized product for Q8_0 and Q4_0 (3e-2 measured, 8e-2 allowed), the
 * same top token at (nearly) every position. Needs node and npm (the peer installs node-llama-cpp once) and python3 with numpy; without them it is
 * skipped, or fails under {@code CI=true}.
 */
class GgufLlamaCppTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The tiny model's shape, which the peer checks against the file's metadata. */
    private static final List<String> SHAPE = List.of("--dim", "64", "--layers", "2", "--heads", "4", "--kv-heads",
            "2", "--ffn", "176", "--vocab", "32000");

    @TempDir
    Path tmp;

    @Test
    void llamaCppScoresTheExportedFilesAsTailorDoes() throws Exception {
        Path peer = Shared.require("peers/llamacpp_peer.sh");
        Path model = Shared.require("models/tiny-llama");
        Path lora = Shared.require("golden/tiny-llama/lora");
        int[] tokens;
        try (SafetensorsFile g = SafetensorsFile.open(Shared.require("golden/tiny-llama/forward.safetensors"))) {
            tokens = GoldenTensors.longs(g, "ids")[0];
        }
        require("node");
        require("npm");
        require("/usr/bin/python3", "-c", "import numpy");
        try (LlamaModel base = LlamaModel.load(model)) {
            LlamaWeights merged = AdapterMerge.merge(base.weights(),
                    AdapterStack.sites(AdapterStack.load(List.of(lora), model, false)));
            for (String type : List.of("F32", "Q8_0", "Q4_0")) {
                Path file = tmp.resolve("tiny-lora-" + type + ".gguf");
                GgufExport.write(file, base.config(), merged, model, "Tiny Llama LoRA", GgufExport.fileType(type));
                double[][] theirs = llamaCpp(peer, file, type, tokens);
                double[][] ours = tailor(file, tokens);
                compare(type, ours, theirs);
            }
        }
    }

    private static void compare(String type, double[][] ours, double[][] theirs) {
        double maxErr = 0;
        int sameTop = 0;
        for (int p = 0; p < ours.length; p++) {
            for (int v = 0; v < ours[p].length; v++) {
                if (theirs[p][v] > -30) {
                    maxErr = Math.max(maxErr, Math.abs(ours[p][v] - theirs[p][v]));
                }
            }
            sameTop += argmax(ours[p]) == argmax(theirs[p]) ? 1 : 0;
        }
        String what = type + ": max |d log p| " + maxErr + ", top-1 agreement " + sameTop + "/" + ours.length;
        assertTrue(maxErr <= (type.equals("F32") ? 1e-4 : 0.08), what);
        assertTrue(sameTop >= ours.length - (type.equals("F32") ? 0 : 2), what);
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            best = v[i] > v[best] ? i : best;
        }
        return best;
    }

    /** Tailor's log-probabilities of the next token at every position, from the exported file. */
    private static double[][] tailor(Path file, int[] tokens) {
        try (LlamaModel m = LlamaModel.load(file)) {
            int vocab = m.config().vocabSize();
            float[] logits = m.logits(m.forward(m.newCache(tokens.length), tokens), 0, tokens.length);
            double[][] out = new double[tokens.length][vocab];
            for (int p = 0; p < tokens.length; p++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) {
                    max = Math.max(max, logits[p * vocab + v]);
                }
                double sum = 0;
                for (int v = 0; v < vocab; v++) {
                    sum += Math.exp(logits[p * vocab + v] - max);
                }
                for (int v = 0; v < vocab; v++) {
                    out[p][v] = logits[p * vocab + v] - max - Math.log(sum);
                }
            }
            return out;
        }
    }

    /** llama.cpp's log-probabilities, from the peer's {@code probs} mode (F32 KV cache, no flash attention). */
    private double[][] llamaCpp(Path peer, Path file, String type, int[] tokens) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(peer.toString(), "probs"));
        cmd.addAll(SHAPE);
        cmd.addAll(List.of("--dtype", type, "--threads", "2", "--kv-type", "F32", "--flash-attn", "off",
                "--model", file.toString(), "--tokens",
                Arrays.stream(tokens).mapToObj(Integer::toString).collect(Collectors.joining(","))));
        Path out = tmp.resolve("probs-" + type + ".out");
        Path err = tmp.resolve("probs-" + type + ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "the llama.cpp peer did not finish in 10 minutes");
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "the llama.cpp peer failed: " + stderr);
        String line = Files.readAllLines(out, StandardCharsets.UTF_8).stream().filter(l -> l.startsWith("PROBS "))
                .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no PROBS line: " + stderr));
        JsonNode result = JSON.readTree(line.substring("PROBS ".length()));
        assertEquals(file.toString(), result.path("model_path").asText(), "the peer scored another file");
        JsonNode probs = result.get("probs");
        double[][] logp = new double[probs.size()][];
        for (int i = 0; i < logp.length; i++) {
            JsonNode row = probs.get(i);
            logp[i] = new double[row.size()];
            for (int v = 0; v < row.size(); v++) {
                logp[i][v] = Math.log(Math.max(row.get(v).asDouble(), 1e-300));
            }
        }
        return logp;
    }

    /** Whether {@code command} runs and exits 0; without it the test is skipped, or fails under {@code CI=true}. */
    private static void require(String... command) {
        boolean ok;
        try {
            Process p = new ProcessBuilder(command.length == 1 ? List.of(command[0], "--version") : List.of(command))
                    .redirectErrorStream(true).start();
            ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            ok = false;
        }
        String why = String.join(" ", command) + " does not run: the llama.cpp peer needs node, npm and python3 "
                + "with numpy";
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(ok, "CI runs need it: " + why);
        }
        Assumptions.assumeTrue(ok, "skipped: " + why);
    }
}
