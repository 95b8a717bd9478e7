package dev.tailor.cli;

import dev.tailor.adapt.InvalidOptionException;
import dev.tailor.model.ConfigException;
import dev.tailor.model.ContextOverflowException;
import dev.tailor.io.TensorFormatException;
import dev.tailor.tokenizer.ChatTemplateException;
import dev.tailor.tokenizer.TokenizerException;
import dev.tailor.train.data.DataFormatException;

import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Turns whatever stops a command, an exception or an {@link Error} (running out of memory included), into one
 * clear line on stderr; the stack trace is printed only when {@code TAILOR_DEBUG} is set. The exit status is
 * {@value #BAD_INPUT} for bad input (an option, a data file or a model file that cannot be used, as for picocli's
 * own usage errors) and {@value #FAILURE} for any other failure.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    /** The exit status of a command refused for bad input. */
    static final int BAD_INPUT = CommandLine.ExitCode.USAGE;
    /** The exit status of a command that failed otherwise. */
    static final int FAILURE = CommandLine.ExitCode.SOFTWARE;

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parseResult) {
        return report(e, cmd.getErr(), cmd.getCommandSpec());
    }

    /** {@code strategy}, with an {@link Error} it lets through reported as {@link #report} does. */
    static CommandLine.IExecutionStrategy catchingErrors(CommandLine.IExecutionStrategy strategy) {
        return parseResult -> {
            try {
                return strategy.execute(parseResult);
            } catch (Error e) {
                return report(e, parseResult.commandSpec().commandLine().getErr(), parseResult.commandSpec());
            }
        };
    }

    /**
     * Prints {@code failure} as one {@code error:} line on {@code err} and returns the exit status; option names in an
     * {@link InvalidOptionException} are spelled as the flags of {@code command}, the command that failed.
     */
    static int report(Throwable failure, PrintWriter err, CommandLine.Model.CommandSpec command) {
        err.println("error: " + describe(failure, command));
        if (System.getenv("TAILOR_DEBUG") != null) {
            failure.printStackTrace(err);
        }
        err.flush();
        return isBadInput(failure) ? BAD_INPUT : FAILURE;
    }

    /**
     * The message of {@code failure}, the options of an {@link InvalidOptionException} spelled as flags (other messages
     * name files and their fields, which keep their names); an out-of-memory error anywhere in its causes wins.
     */
    private static String describe(Throwable failure, CommandLine.Model.CommandSpec command) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError oom) {
                return "out of memory (" + oom.getMessage() + "); give Java more with TAILOR_JAVA_OPTS=-Xmx<size> "
                        + "or use a smaller model, batch or sequence length";
            }
        }
        if (failure instanceof StackOverflowError) {
            return "stack overflow; give threads more stack with TAILOR_JAVA_OPTS=-Xss<size>";
        }
        String message = failure.getMessage() != null ? failure.getMessage() : failure.toString();
        return failure instanceof InvalidOptionException invalid ? MethodFlags.spell(message, invalid.option(), command)
                : message;
    }

    /** Whether {@code failure} says the input (options, data, model files) cannot be used. */
    static boolean isBadInput(Throwable failure) {
        return failure instanceof IllegalArgumentException || failure instanceof DataFormatException
                || failure instanceof ConfigException || failure instanceof TensorFormatException
                || failure instanceof TokenizerException || failure instanceof ChatTemplateException
                || failure instanceof ContextOverflowException;
    }
}
