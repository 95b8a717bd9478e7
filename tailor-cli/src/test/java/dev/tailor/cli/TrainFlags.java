package dev.tailor.cli;

import dev.tailor.adapt.AdapterMethods;
import dev.tailor.adapt.MethodOptions;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/** Parses {@code tailor train}'s method flags as the command does, for tests of one method's options. */
final class TrainFlags {
    private TrainFlags() {
    }

    /** The options {@code method} gets from the method flags {@code args} of a {@code tailor train} command line. */
    static MethodOptions methodOptions(String method, String... args) {
        List<String> all = new ArrayList<>(List.of("--data", "d.jsonl", "--output", "out", "--method", method));
        all.addAll(List.of(args));
        CommandLine cl = new CommandLine(new TrainCommand());
        cl.parseArgs(all.toArray(String[]::new));
        return MethodOptions.of(AdapterMethods.byName(method).options(),
                MethodFlags.given(cl.getCommandSpec(), method, new PrintWriter(new StringWriter())));
    }
}
