package dev.tailor.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tailor} command: customizes open-weight LLMs and serves them. */
@Command(name = "tailor", mixinStandardHelpOptions = true, version = "tailor 0.1.0",
        description = "Fine-tune, adapt, evaluate and serve open-weight LLMs, in pure Java.",
        subcommands = {DemoCommand.class, GenerateCommand.class, TokenizeCommand.class, EvalCommand.class,
                TrainCommand.class, CostCommand.class, CompareCommand.class, AdaptersCommand.class, MergeCommand.class, ExportCommand.class,
                PullCommand.class, BenchCommand.class, ServeCommand.class, WorkerCommand.class,
                CommandLine.HelpCommand.class})
public final class TailorCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Runs the CLI and exits with the command's status. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line (also used by tests): every failure, {@link Error}s included, ends as one line
     * and an exit status ({@link ErrorHandler}).
     */
    public static CommandLine commandLine() {
        return new CommandLine(new TailorCommand())
                .setExecutionExceptionHandler(new ErrorHandler())
                .setExecutionStrategy(ErrorHandler.catchingErrors(new CommandLine.RunLast()));
    }
}
