package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.cost.CostBase;
import dev.tailor.cost.DatasetTokens;
import dev.tailor.train.TrainingMethod;
import dev.tailor.train.data.DataConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tailor cost}: the JSON contract scripts rely on, several methods compared with each method's options taken
 * from the registry's flags, the table, the data's tokens, a user's hardware file, and bad input refused with status 2
 * naming the flag.
 */
class CostCommandTest extends TinyModelCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Llama-3-8B's config.json, as its Hugging Face repository has it (the fields Tailor reads). */
    private static final String LLAMA3_8B = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
             "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
             "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
             "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "hidden_act": "silu", "tie_word_embeddings": false,
             "bos_token_id": 128000, "eos_token_id": 128001, "torch_dtype": "bfloat16"}
            """;
    final StringWriter out = new StringWriter();

    /** Runs {@code tailor args}, its output in {@link #out} and its errors in {@link #err}. */
    int run(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        CommandLine cl = cli();
        cl.setOut(new PrintWriter(out, true));
        return cl.execute(args);
    }

    private Path llama3() throws Exception {
        return Files.writeString(dir.resolve("config.json"), LLAMA3_8B);
    }

    @Test
    void theJsonContractOfABareConfigWithTrainsMethodOptions() throws Exception {
        assertEquals(0, run("cost", "--config", llama3().toString(), "--method", "lora", "--r", "16",
                "--lora-alpha", "32", "--target-modules", "q_proj,k_proj,v_proj,o_proj", "--seq-len", "1024",
                "--batch-size", "2", "--base-dtype", "Q4_0", "--gradient-checkpointing", "--hardware", "H100",
                "--json"), err.toString());
        JsonNode root = JSON.readTree(out.toString());
        JsonNode lora = root.path("methods").path(0);
        assertEquals("lora", lora.path("method").asText());
        long trainable = 32L * 16 * ((4096 + 4096) * 2 + (4096 + 1024) * 2);
        assertEquals(trainable, lora.path("trainable_parameters").asLong());
        assertEquals(8_030_261_248L + trainable, lora.path("total_parameters").asLong());
        JsonNode memory = lora.path("memory_bytes");
        long sum = 0;
        for (String part : List.of("weights", "gradients", "optimizer", "activations")) {
            assertTrue(memory.path(part).asLong() > 0, part + ": " + memory);
            sum += memory.path(part).asLong();
        }
        assertEquals(sum, memory.path("total").asLong());
        assertEquals(8L * trainable, memory.path("optimizer").asLong(), "AdamW's two float32 moments");
        assertEquals(memory.path("activations_with_checkpointing"), memory.path("activations"));
        assertTrue(lora.path("flops_per_token").asDouble() > 2 * 7.5e9, lora.toString());
        assertTrue(lora.path("artifact_bytes").asLong() > 4 * trainable, "float32 tensors and the config");
        assertEquals("H100", root.path("hardware").path("name").asText());
        assertEquals(1024, root.path("settings").path("seq_len").asInt());
        assertEquals("Q4_0", root.path("settings").path("base_dtype").asText());
        assertTrue(root.path("settings").path("optimizer_state").asText().contains("two moments"));
    }

    @Test
    void severalMethodsAreComparedInTheOrderGivenEachWithItsOwnOptions() throws Exception {
        assertEquals(0, run("cost", "--config", llama3().toString(), "--method", "full,lora", "--method", "ia3",
                "--method", "partial", "--train-layers", "30-31", "--r", "4", "--tenants", "10", "--hardware", "A100-80",
                "--json"), err.toString());
        JsonNode methods = JSON.readTree(out.toString()).path("methods");
        assertEquals(List.of("full", "lora", "ia3", "partial"), List.of(methods.path(0).path("method").asText(),
                methods.path(1).path("method").asText(), methods.path(2).path("method").asText(),
                methods.path(3).path("method").asText()));
        assertEquals(32L * 4 * (4096 + 4096 + 4096 + 1024), methods.path(1).path("trainable_parameters").asLong(),
                "--r 4 reaches LoRA");
        assertEquals(30, methods.path(3).path("lowest_trained_layer").asInt());
        JsonNode fullStorage = methods.path(0).path("storage_bytes");
        assertEquals(10 * methods.path(0).path("artifact_bytes").asLong(), fullStorage.path("total").asLong());
        JsonNode loraStorage = methods.path(1).path("storage_bytes");
        assertEquals(fullStorage.path("total"), loraStorage.path("full_copies"));
        assertTrue(loraStorage.path("total").asLong() < fullStorage.path("total").asLong() / 5, loraStorage.toString());
        assertFalse(err.toString().contains("warning"), err.toString());
        assertEquals(0, run("cost", "--config", llama3().toString(), "--method", "full", "--r", "4", "--hardware",
                "H100"));
        assertTrue(err.toString().contains("warning: --r is not an option of --method full; ignored"), err.toString());
    }

    @Test
    void theTablePutsTheMethodsSideBySide() throws Exception {
        assertEquals(0, run("cost", "--config", llama3().toString(), "--method", "full,lora", "--hardware", "H100",
                "--activation-dtype", "BF16", "--tokens", "100000000"), err.toString());
        String table = out.toString();
        assertTrue(table.contains("on H100"), table);
        assertTrue(table.contains("100,000,000 training tokens"), table);
        String header = table.lines().filter(l -> l.strip().startsWith("full")).findFirst().orElseThrow();
        assertTrue(header.contains("lora"), table);
        for (String row : List.of("trainable parameters", "memory: weights", "optimizer state", "FLOPs per token",
                "time", "cost", "artifact", "storage, 1 tenant", "serving memory")) {
            assertTrue(table.contains(row), row + " in\n" + table);
        }
        assertTrue(table.contains("(too big)"), "full fine-tuning of 8B in F32 does not fit 80 GB:\n" + table);
    }

    @Test
    void aModelDirectoryCountsItsDataAndCostsEveryRegisteredMethod() throws Exception {
        assertEquals(0, run("cost", "--model", model.toString(), "--data", data.toString(), "--epochs", "2",
                "--seq-len", "64", "--hardware", "T4", "--json"), err.toString());
        long tokens = JSON.readTree(out.toString()).path("settings").path("tokens").asLong();
        long once = DatasetTokens.count(new DataConfig(data, null, null, 0.1, 64, 4, 42, true, false), model, 1);
        assertEquals(2 * once, tokens);
        assertTrue(once > 0);
        assertEquals(0, run("cost", "--model", model.toString(), "--method", String.join(",",
                TrainingMethod.names().stream().filter(m -> !m.equals("partial")).toList()),
                "--reduction-factor", "4", "--hardware", "T4", "--json"), err.toString());
        JsonNode methods = JSON.readTree(out.toString()).path("methods");
        assertEquals(TrainingMethod.names().size() - 1, methods.size());
        assertEquals(CostBase.read(model, null).parameters(), methods.path(0).path("trainable_parameters").asLong());
    }

    @Test
    void aHardwareFileInYamlAddsAProfile() throws Exception {
        Path file = Files.writeString(dir.resolve("mine.yaml"), """
                profiles:
                  - name: MI300X
                    bf16_tflops: 1307
                    fp32_tflops: 163.4
                    memory_gb: 192
                    bandwidth_gb_s: 5300
                    price_per_hour: 2.5
                """);
        assertEquals(0, run("cost", "--config", llama3().toString(), "--hardware-file", file.toString(),
                "--hardware", "mi300x", "--json"), err.toString());
        JsonNode root = JSON.readTree(out.toString());
        assertEquals("MI300X", root.path("hardware").path("name").asText());
        assertEquals(2.5, root.path("settings").path("price_per_hour").asDouble());
        assertTrue(root.path("methods").path(0).path("fits").asBoolean(), "full 8B training fits 192 GB");
    }

    @Test
    void badInputIsRefusedWithStatus2NamingTheFlag() throws Exception {
        String config = llama3().toString();
        assertRefused("--base-dtype", "cost", "--config", config, "--base-dtype", "Q3_K", "--hardware", "H100");
        assertRefused("--trainable-dtype", "cost", "--config", config, "--trainable-dtype", "Q4_0", "--hardware",
                "H100");
        assertRefused("--r", "cost", "--config", config, "--method", "lora", "--r", "0", "--hardware", "H100");
        assertRefused("--hardware", "cost", "--config", config, "--hardware", "B300");
        assertRefused("--seq-len", "cost", "--config", config, "--seq-len", "0", "--hardware", "H100");
        assertRefused("--utilization", "cost", "--config", config, "--utilization", "2", "--hardware", "H100");
        assertRefused("--tenants", "cost", "--config", config, "--tenants", "0", "--hardware", "H100");
        assertRefused("--method", "cost", "--config", config, "--method", "lora,nope", "--hardware", "H100");
        assertRefused("--train-layers", "cost", "--config", config, "--method", "partial", "--hardware", "H100");
        assertRefused("--config", "cost", "--hardware", "H100");
        assertRefused("--data needs --model", "cost", "--config", config, "--data", data.toString(), "--hardware",
                "H100");
        assertRefused("no-such.json", "cost", "--config", dir.resolve("no-such.json").toString(), "--hardware",
                "H100");
        Files.writeString(dir.resolve("bad.yaml"), "profiles:\n  - name: X\n    bf16_tflops: fast\n");
        assertRefused("bf16_tflops", "cost", "--config", config, "--hardware-file", dir.resolve("bad.yaml").toString(),
                "--hardware", "X");
    }

    private void assertRefused(String message, String... args) {
        assertEquals(2, run(args), err.toString());
        List<String> errors = err.toString().lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), err.toString());
        assertTrue(errors.getFirst().contains(message), "expected " + message + " in " + err);
    }
}
