/**
 * The {@code tailor} command line: picocli commands that parse flags, call the engine and print. Engine errors
 * reach the user as one line ({@link dev.tailor.cli.ErrorHandler}), with the engine's option names spelled as
 * flags; the registered adapter methods' options become {@code tailor train}'s flags
 * ({@link dev.tailor.cli.MethodFlags}).
 */
package dev.tailor.cli;
