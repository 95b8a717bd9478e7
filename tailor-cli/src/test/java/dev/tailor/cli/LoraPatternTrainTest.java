package dev.tailor.cli;

import dev.tailor.adapt.AdapterBase;
import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.adapt.lora.LoraMethod;
import java.util.ArrayList;
import java.util.Arrays;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.adapt.lora.LoraLayer;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.io.SafetensorsFile;
import dev.tailor.model.LlamaModel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tailor train --method lora --rank-pattern ... --alpha-pattern ...} on the tiny Llama (hidden 64, ffn 176). */
class LoraPatternTrainTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PATTERNS = {"--r", "4", "--lora-alpha", "8",
        "--target-modules", "q_proj,v_proj,down_proj",
        "--rank-pattern", "q_proj=8", "--rank-pattern", "model.layers.0.mlp.down_proj=2",
        "--alpha-pattern", "mlp.down_proj=4,v_proj=16"};
    /** Per module: rank, alpha, out, in, as PEFT's get_pattern_key resolves the patterns above. */
    private static final Map<String, int[]> EXPECTED = Map.of(
            "model.layers.0.self_attn.q_proj", new int[] {8, 8, 64, 64},
            "model.layers.1.self_attn.q_proj", new int[] {8, 8, 64, 64},
            "model.layers.0.self_attn.v_proj", new int[] {4, 16, 32, 64},
            "model.layers.1.self_attn.v_proj", new int[] {4, 16, 32, 64},
            "model.layers.0.mlp.down_proj", new int[] {2, 4, 64, 176},
            "model.layers.1.mlp.down_proj", new int[] {4, 4, 64, 176});

    @TempDir
    Path dir;
    Path model;
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void model() {
        model = Shared.require("models/tiny-llama");
    }

    private int train(Path out, String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--model", model.toString(), "--data",
                CliFixtures.mobyDick(dir).toString(), "--output", out.toString(), "--method", "lora", "--steps", "3",
                "--batch-size", "2", "--seq-len", "64", "--lr", "1e-2", "--schedule", "constant"));
        args.addAll(List.of(extra));
        CommandLine cl = TailorCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args.toArray(String[]::new));
    }

    /** PEFT's {@code LoraLayer.update_layer}: {@code alpha / sqrt(r)} with rsLoRA, else {@code alpha / r}. */
    private static float scale(int[] e, boolean rslora) {
        return (float) (rslora ? e[1] / Math.sqrt(e[0]) : (double) e[1] / e[0]);
    }

    @Test
    void patternsSetEachModulesRankAndScaleAndAreSavedAsGiven() throws Exception {
        Path out = dir.resolve("lora");
        assertEquals(0, train(out, PATTERNS), err.toString());
        assertTrue(err.toString().contains("LoRA r=4 on 6 modules, rank_pattern {model.layers.0.mlp.down_proj=2, "
                + "q_proj=8}, alpha_pattern {mlp.down_proj=4.0, v_proj=16.0}"), err.toString());
        try (SafetensorsFile file = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
            assertEquals(12, file.names().size());
            EXPECTED.forEach((module, e) -> {
                String prefix = "base_model.model." + module;
                assertArrayEquals(new long[] {e[0], e[3]}, file.info(prefix + ".lora_A.weight").shape(), module);
                assertArrayEquals(new long[] {e[2], e[0]}, file.info(prefix + ".lora_B.weight").shape(), module);
            });
        }
        JsonNode config = JSON.readTree(out.resolve("adapter_config.json").toFile());
        assertEquals(4, config.get("r").asInt());
        assertEquals(JSON.readTree("{\"model.layers.0.mlp.down_proj\": 2, \"q_proj\": 8}"), config.get("rank_pattern"));
        assertEquals(JSON.readTree("{\"mlp.down_proj\": 4, \"v_proj\": 16}"), config.get("alpha_pattern"));
        LoraModel loaded = (LoraModel) AdapterFiles.load(out);
        assertEquals(EXPECTED.keySet(), loaded.modules().keySet());
        EXPECTED.forEach((module, e) -> assertEquals(scale(e, false), loaded.modules().get(module).scale(),
                module + ": the saved config gives back the scale PEFT's rule gives"));
    }

    @Test
    void theAdapterBeingTrainedUsesEachModulesScaleWithAndWithoutRsLora() throws Exception {
        try (LlamaModel llama = LlamaModel.load(model)) {
            for (boolean rslora : new boolean[] {false, true}) {
                LoraModel fresh = (LoraModel) new LoraMethod().create("lora",
                        TrainFlags.methodOptions("lora", rslora ? withRslora() : PATTERNS),
                        new AdapterBase(llama.config(), llama.weights(), null, null), 42);
                EXPECTED.forEach((module, e) -> {
                    LoraLayer pair = fresh.modules().get(module);
                    assertEquals(e[0], pair.rank(), module);
                    assertEquals(scale(e, rslora), pair.scale(), module + " rslora=" + rslora);
                });
            }
        }
    }

    private static String[] withRslora() {
        String[] args = java.util.Arrays.copyOf(PATTERNS, PATTERNS.length + 1);
        args[PATTERNS.length] = "--use-rslora";
        return args;
    }

    @Test
    void badPatternValuesFailNamingTheFlagAndValue() throws Exception {
        assertEquals(2, train(dir.resolve("bad"), "--rank-pattern", "q_proj=abc"));
        assertTrue(err.toString().contains("--rank-pattern: \"q_proj=abc\": the rank must be a whole number >= 1"),
                err.toString());
        Map<String, String> bad = Map.of(
                "--rank-pattern=q_proj=2.5", "--rank-pattern: \"q_proj=2.5\": the rank must be a whole number",
                "--rank-pattern=q_proj=0", "--rank-pattern: \"q_proj=0\": the rank must be a whole number >= 1",
                "--rank-pattern=v_proj=-3", "--rank-pattern: \"v_proj=-3\": the rank must be a whole number >= 1",
                "--rank-pattern==4", "--rank-pattern: \"=4\" must be MODULE=VALUE",
                "--rank-pattern=q_proj", "--rank-pattern: \"q_proj\" must be MODULE=VALUE",
                "--alpha-pattern=q_proj=x", "--alpha-pattern: \"q_proj=x\": alpha must be a number",
                "--alpha-pattern= =2", "--alpha-pattern: \" =2\" must be MODULE=VALUE",
                "--rank-pattern=q_proj=2,q_proj=3", "--rank-pattern: \"q_proj\" is given twice");
        try (LlamaModel llama = LlamaModel.load(model)) {
            AdapterBase base = new AdapterBase(llama.config(), llama.weights(), null, null);
            bad.forEach((arg, message) -> {
                var e = assertThrows(InvalidOptionException.class,
                        () -> new LoraMethod().create("lora", TrainFlags.methodOptions("lora", arg), base, 1), arg);
                String shown = MethodFlags.spell(e.getMessage(), e.option());
                assertTrue(shown.startsWith(message), arg + ": " + shown);
            });
        }
    }
}
