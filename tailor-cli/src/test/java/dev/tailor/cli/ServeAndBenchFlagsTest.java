package dev.tailor.cli;

import dev.tailor.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad flags of {@code tailor serve} and of {@code tailor bench} are refused before anything starts: one line naming
 * the flag, exit status 2; and the PyTorch peer of {@code bench --peer} is given the run's flags.
 */
class ServeAndBenchFlagsTest {
    @TempDir
    Path dir;
    private final StringWriter err = new StringWriter();

    private void refused(String expected, String... args) {
        err.getBuffer().setLength(0);
        CommandLine cl = TailorCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        assertEquals(2, cl.execute(args), err.toString());
        assertTrue(err.toString().contains(expected), expected + " in: " + err);
    }

    @Test
    void serveRefusesBadLimitsAndAnOpenBindWithoutAKey() {
        String model = Shared.require("models/tiny-llama").toString();
        refused("--max-queue must be >= 1, got 0", "serve", "--model", model, "--max-queue", "0");
        refused("--max-tokens-limit must be >= 1, got 0", "serve", "--model", model, "--max-tokens-limit", "0");
        refused("--port must be in [0, 65535], got 70000", "serve", "--model", model, "--port", "70000");
        refused("--adapter-cache-bytes must be >= 1, got 0", "serve", "--model", model, "--port", "0",
                "--adapter-cache-bytes", "0");
        refused("--request-timeout must be a positive number of seconds", "serve", "--model", model,
                "--request-timeout", "NaN");
        refused("--admin-key", "serve", "--model", model, "--host", "0.0.0.0", "--admin-key", "");
        refused("--adapter missing=", "serve", "--model", model, "--port", "0", "--adapter",
                "missing=" + dir.resolve("no-such-adapter"));
        refused("--database needs a state directory", "serve", "--model", model, "--port", "0", "--database",
                "jdbc:postgresql://127.0.0.1/tailor");
        refused("--database must be a jdbc:postgresql://", "serve", "--model", model, "--port", "0", "--state",
                dir.resolve("state").toString(), "--database", "jdbc:mysql://127.0.0.1/tailor?password=secret");
        assertTrue(!err.toString().contains("secret"), "the password is left out: " + err);
    }

    @Test
    void serveReadsItsOptionsFromAConfigFileAndFlagsOverrideIt() throws Exception {
        String model = Shared.require("models/tiny-llama").toString();
        Path config = dir.resolve("serve.yaml");
        java.nio.file.Files.writeString(config, """
                model: %s
                port: 0
                max_queue: 0
                max-batch: 0
                adapter:
                  sql: %s
                """.formatted(model, dir.resolve("no-such-adapter")));
        refused("--max-queue must be >= 1, got 0", "serve", "--config", config.toString());
        refused("--max-batch must be >= 1, got 0", "serve", "--config", config.toString(), "--max-queue", "3");
        refused("--adapter sql=", "serve", "--config", config.toString(), "--max-queue", "3", "--max-batch", "2");
        java.nio.file.Files.writeString(config, "- not a mapping\n");
        refused("a recipe is a mapping", "serve", "--config", config.toString());
        refused("--model is required", "serve", "--port", "0");
    }

    @Test
    void benchRefusesUnknownFuzzTargetsAndEmptyLoads() {
        refused("no fuzz target \"nope\"", "bench", "fuzz", "--target", "nope", "--tries", "1");
        refused("--replay needs --target", "bench", "fuzz", "--replay", "42");
        refused("--streams, --adapters, --requests and --rounds must be positive", "bench", "serve", "--streams", "0");
        refused("--streams, --adapters, --requests and --rounds must be positive", "bench", "serve", "--rounds", "0");
        refused("--steps must be >= 1, got 0", "bench", "decode", "--steps", "0");
        refused("--warmup must be >= 0, got -1", "bench", "prefill", "--warmup", "-1");
        refused("--prompt and --new-tokens must be >= 1, got 32 and 0", "bench", "decode", "--new-tokens", "0");
    }

    @Test
    void benchRefusesAComparisonThePeerCannotMakeBeforeRunningAnything() throws Exception {
        String peer = Files.writeString(dir.resolve("peer.py"), "").toString();
        refused("--peer runs with bench matmul, prefill, decode and train, not serve",
                "bench", "serve", "--peer", peer);
        refused("--peer runs only full fine-tuning and LoRA, not --method ia3",
                "bench", "train", "--method", "ia3", "--peer", peer);
        refused("--peer trains every layer without gradient checkpointing: drop --gradient-checkpointing or --peer",
                "bench", "train", "--lora", "8", "--gradient-checkpointing", "--peer", peer);
        refused("drop --train-layers or --peer", "bench", "train", "--train-layers", "6-7", "--peer", peer);
        refused("--peer " + dir.resolve("none.py") + ": no such file",
                "bench", "decode", "--peer", dir.resolve("none.py").toString());
    }

    @Test
    void thePeerTrainsTheRankTailorTrains() throws Exception {
        String peer = Files.writeString(dir.resolve("peer.py"), "").toString();
        assertEquals("8", peerLora("bench", "train", "--method", "lora", "--peer", peer), "LoRA's default rank");
        assertEquals("16", peerLora("bench", "train", "--method", "lora", "--lora", "16", "--peer", peer));
        assertEquals("4", peerLora("bench", "train", "--lora", "4", "--peer", peer));
        assertEquals("0", peerLora("bench", "train", "--method", "full", "--lora", "8", "--peer", peer),
                "full fine-tuning whatever --lora says");
        assertEquals("0", peerLora("bench", "train", "--peer", peer));
    }

    /** The {@code --lora} the peer would be given for these arguments. */
    private static String peerLora(String... args) {
        CommandLine cl = TailorCommand.commandLine();
        cl.parseArgs(args);
        BenchCommand bench = cl.getSubcommands().get("bench").getCommand();
        List<String> cmd = bench.peerCommand();
        return cmd.get(cmd.indexOf("--lora") + 1);
    }
}
