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
 * Bad flags of {@code tailor worker} and of {@code tailor serve}'s fine-tuning are refused before anything starts: one
 * line naming the flag, exit status 2.
 */
class WorkerFlagsTest {
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

    private void refusedInOneLine(String expected, String... args) {
        refused(expected, args);
        assertEquals(1, err.toString().strip().lines().count(), "one line: " + err);
    }

    @Test
    void workerRefusesBadFlags() {
        String model = Shared.require("models/tiny-llama").toString();
        String state = dir.resolve("state").toString();
        refused("Missing required option: '--state=DIR'", "worker", "--model", model);
        refusedInOneLine("--lease must be at least 1 second, got 0.5", "worker", "--model", model, "--state",
                state, "--lease", "0.5");
        refusedInOneLine("--poll must be at least 0.01 seconds, got 0.0", "worker", "--model", model, "--state",
                state, "--poll", "0");
        refusedInOneLine("--threads must be >= 1, got 0", "worker", "--model", model, "--state", state,
                "--threads", "0");
        refusedInOneLine("--id must not be blank", "worker", "--model", model, "--state", state, "--id", " ");
        refusedInOneLine("--database must be a jdbc:postgresql://", "worker", "--model", model, "--state", state,
                "--registry", "jdbc:mysql://127.0.0.1/tailor?password=secret");
        assertTrue(!err.toString().contains("secret"), "the password is left out: " + err);
    }

    @Test
    void serveRefusesFineTuningWithoutStateOrWithBadLimits() {
        String model = Shared.require("models/tiny-llama").toString();
        String state = dir.resolve("state").toString();
        refusedInOneLine("--fine-tuning needs --state DIR", "serve", "--model", model, "--port", "0",
                "--fine-tuning");
        refusedInOneLine("--local-worker needs --fine-tuning", "serve", "--model", model, "--port", "0", "--state",
                state, "--local-worker");
        refusedInOneLine("--max-concurrent-jobs must be >= 1, got 0", "serve", "--model", model, "--port", "0",
                "--state", state, "--fine-tuning", "--max-concurrent-jobs", "0");
        refusedInOneLine("--max-file-bytes must be >= 1, got 0", "serve", "--model", model, "--port", "0",
                "--state", state, "--fine-tuning", "--max-file-bytes", "0");
        refusedInOneLine("--worker-threads must be >= 1, got 0", "serve", "--model", model, "--port", "0",
                "--state", state, "--fine-tuning", "--local-worker", "--worker-threads", "0");
    }
}
