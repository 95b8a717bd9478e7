package dev.tailor.cli;

import dev.tailor.adapt.InvalidOptionException;

import picocli.CommandLine;

/**
 * Turns an exception from a command into one clear line on stderr and exit status 1; the stack trace
 * is printed only when {@code TAILOR_DEBUG} is set.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parseResult) {
        String message = e.getMessage() != null ? e.getMessage() : e.toString();
        if (e instanceof InvalidOptionException invalid) {
            message = MethodFlags.spell(message, invalid.option());
        }
        cmd.getErr().println("error: " + message);
        if (System.getenv("TAILOR_DEBUG") != null) {
            e.printStackTrace(cmd.getErr());
        }
        return 1;
    }
}
