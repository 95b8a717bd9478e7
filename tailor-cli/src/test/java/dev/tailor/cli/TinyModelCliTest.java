package dev.tailor.cli;

import dev.tailor.Shared;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/**
 * What the CLI tests that train on the shared tiny Llama share: a temporary directory, the model, Moby-Dick as
 * {@code text} data ({@link CliFixtures#mobyDick}) and the error output of the commands they run.
 */
abstract class TinyModelCliTest {
    @TempDir
    Path dir;
    Path model;
    Path data;
    final StringWriter err = new StringWriter();

    @BeforeEach
    void tinyModelAndData() throws Exception {
        model = Shared.require("models/tiny-llama");
        data = CliFixtures.mobyDick(dir);
    }

    /** The {@code tailor} command line, its errors going to {@link #err}. */
    CommandLine cli() {
        CommandLine cl = TailorCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl;
    }
}
