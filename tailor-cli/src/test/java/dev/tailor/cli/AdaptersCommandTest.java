package dev.tailor.cli;

import java.util.ArrayList;
import java.util.Arrays;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.Shared;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.io.SafetensorsWriter;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.DType;
import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tailor adapters inspect|combine} and the {@code tailor merge} alias. */
class AdaptersCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(Object command, String... args) {
        CommandLine cl = new CommandLine(command).setExecutionExceptionHandler(new ErrorHandler());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void inspectPrintsTheGoldenLoraAsJsonAndForPeople() throws Exception {
        Path golden = Shared.require("golden/tiny-llama/lora");
        assertEquals(0, run(new AdaptersCommand(), "inspect", "--json", golden.toString()), err.toString());
        JsonNode n = JSON.readTree(out.toString());
        assertEquals("LORA", n.get("method").asText());
        assertEquals(4, n.get("r").asInt());
        assertEquals(8.0, n.get("lora_alpha").asDouble());
        assertEquals(7, n.get("target_modules").size());
        assertTrue(n.get("rank_pattern").isEmpty());
        assertEquals(14, n.get("modules").asInt());
        // tiny-llama: per layer q, k, v, o, gate, up, down pairs of rank 4 (hidden 64, kv 32, ffn 176), 2 layers
        long perLayer = 4L * ((64 + 64) + (64 + 32) * 2 + (64 + 64) + (64 + 176) * 3);
        assertEquals(2 * perLayer, n.get("parameters").asLong());
        assertEquals(Files.size(golden.resolve("adapter_model.safetensors")), n.get("bytes").asLong());
        assertEquals("tiny-llama", n.get("base_model").asText());
        out.getBuffer().setLength(0);
        assertEquals(0, run(new AdaptersCommand(), "inspect", golden.toString()));
        assertTrue(out.toString().contains("method            LORA"), out.toString());
        assertTrue(out.toString().contains("parameters        " + 2 * perLayer), out.toString());
    }

    @Test
    void inspectDescribesOtherMethodsThroughTheAdapterInterface() throws Exception {
        Path ia3 = dir.resolve("ia3");
        Files.createDirectories(ia3);
        Files.writeString(ia3.resolve("adapter_config.json"),
                "{\"peft_type\": \"IA3\", \"target_modules\": [\"k_proj\", \"down_proj\"]}");
        new SafetensorsWriter().metadata("tailor.base_fingerprint", "sha256:abc")
                .add("base_model.model.model.layers.0.mlp.down_proj.ia3_l", DType.F32, new long[] {1, 6},
                        new float[6])
                .write(ia3.resolve("adapter_model.safetensors"));
        Parameter p = new Parameter("x", new long[] {1, 6}, new float[6]);
        Adapter stand = new Adapter() {
            @Override
            public String type() {
                return "IA3";
            }

            @Override
            public String describe() {
                return "IA³ on 1 module";
            }

            @Override
            public AdapterSites sites() {
                return AdapterSites.NONE;
            }

            @Override
            public List<Parameter> parameters() {
                return List.of(p);
            }

            @Override
            public Map<String, Object> config(String baseModel) {
                return Map.of("peft_type", "IA3", "target_modules", List.of("k_proj"));
            }

            @Override
            public List<Parameter> savedTensors() {
                return List.of(p);
            }
        };
        JsonNode n = AdaptersCommand.Inspect.summary(stand, ia3);
        assertEquals("IA3", n.get("method").asText());
        assertEquals("IA³ on 1 module", n.get("description").asText());
        assertEquals(2, n.get("target_modules").size());
        assertTrue(!n.has("r") && !n.has("rank_pattern"), n.toString());
        assertEquals(6, n.get("parameters").asLong());
        assertEquals("sha256:abc", n.get("base_fingerprint").asText());
    }

    @Test
    void combineRunsEveryMethodAndChecksItsOptions() throws Exception {
        ModelConfig config = new ModelConfig("llama", 16, 24, 2, 4, 2, 4, 1e-5, 10000.0, null, 50, 64, false, false,
                false, 1, List.of(2));
        for (int i = 0; i < 2; i++) {
            LoraModel m = LoraModel.create(new LoraConfig(4, 8, 0, List.of("q_proj", "up_proj"), false, null),
                    config, i);
            m.modules().values().forEach(a -> java.util.Arrays.fill(a.parameters().get(1).data(), 0.01f));
            m.save(dir.resolve("a" + i), "tiny", "sha256:same");
        }
        String a0 = dir.resolve("a0").toString();
        String a1 = dir.resolve("a1").toString();
        for (String[] args : new String[][] {{"--method", "linear"}, {"--method", "cat"},
            {"--method", "svd", "--svd-rank", "2"}, {"--method", "ties", "--density", "0.5"},
            {"--method", "dare_linear", "--density", "0.5", "--seed", "3"},
            {"--method", "dare_ties", "--density", "0.5", "--majority-sign-method", "frequency"}}) {
            Path output = dir.resolve(args[1]);
            List<String> command = new java.util.ArrayList<>(List.of("combine", "--adapter", a0, "--adapter", a1,
                    "--weights", "0.7,0.3", "-o", output.toString()));
            command.addAll(List.of(args));
            assertEquals(0, run(new AdaptersCommand(), command.toArray(String[]::new)), args[1] + ": " + err);
            LoraModel combined = (LoraModel) AdapterFiles.load(output);
            int expected = switch (args[1]) {
                case "cat" -> 8;
                case "svd" -> 2;
                default -> 4;
            };
            assertEquals(expected, combined.settings().r(), args[1]);
            assertEquals("sha256:same", AdapterFiles.baseFingerprint(output));
            assertEquals(Map.of(), combined.rankPattern());
        }
        assertNotEquals(0, run(new AdaptersCommand(), "combine", "--adapter", a0, "--adapter", a1, "--method", "ties",
                "-o", dir.resolve("bad").toString()));
        assertTrue(err.toString().contains("--density"), err.toString());
        assertNotEquals(0, run(new AdaptersCommand(), "combine", "--adapter", a0, "--adapter", a1, "--method",
                "average", "-o", dir.resolve("bad").toString()));
        assertTrue(err.toString().contains("dare_ties"), err.toString());
    }

    @Test
    void mergeAliasSavesAStandaloneModel() {
        Path golden = Shared.require("golden/tiny-llama/lora");
        Path model = Shared.require("models/tiny-llama");
        Path output = dir.resolve("merged");
        assertEquals(0, run(new MergeCommand(), "--model", model.toString(), "--adapter", golden.toString(),
                "--force", "-o", output.toString()), err.toString());
        assertTrue(Files.exists(output.resolve("config.json")));
        assertTrue(Files.exists(output.resolve("model.safetensors")));
    }
}
