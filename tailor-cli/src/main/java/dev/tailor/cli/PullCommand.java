package dev.tailor.cli;

import dev.tailor.hub.ConsoleProgress;
import dev.tailor.hub.HubClient;
import dev.tailor.hub.HubException;
import dev.tailor.hub.HubSettings;
import dev.tailor.hub.RepoId;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.Console;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code tailor pull ORG/NAME [--revision R] [--include GLOB...]}: downloads a model from the Hugging Face Hub into
 * the Hugging Face cache (shared with transformers and huggingface_hub) and prints the snapshot directory.
 */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a model from the Hugging Face Hub into the Hugging Face cache.",
                "Uses HF_ENDPOINT, HF_TOKEN, HF_HOME and HF_HUB_CACHE like huggingface_hub; interrupted downloads "
                        + "resume when run again. Prints the snapshot directory."})
public final class PullCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "ORG/NAME", description = "The model repo, e.g. meta-llama/Llama-3.2-1B.")
    String repo;

    @Option(names = "--revision", paramLabel = "R", defaultValue = "main",
            description = "Branch, tag or commit (default: ${DEFAULT-VALUE}).")
    String revision;

    @Option(names = "--include", paramLabel = "GLOB", arity = "1..*",
            description = "Only files matching these patterns (fnmatch, e.g. '*.json' '*.safetensors').")
    List<String> include = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    /** The command, reading the process environment. */
    public PullCommand() {
        this(System.getenv());
    }

    /** The command with an explicit environment (for tests). */
    PullCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        RepoId id;
        try {
            id = RepoId.parse(repo);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        Console console = System.console();
        boolean tty = console != null && console.isTerminal();
        HubSettings settings = HubSettings.fromEnv(env, Path.of(System.getProperty("user.home")));
        try (HubClient client = new HubClient(settings, new ConsoleProgress(err, tty))) {
            out.println(client.pull(id, revision, include));
            out.flush();
            return 0;
        } catch (HubException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return 1;
        }
    }
}
