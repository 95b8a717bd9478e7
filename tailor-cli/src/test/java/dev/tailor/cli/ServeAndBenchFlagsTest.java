package dev.tailor.cli;

import dev.tailor.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad flags of {@code tailor serve} and of {@code tailor bench serve|fuzz} are refused before anything starts: one
 * line naming the flag, exit status 2.
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
}
