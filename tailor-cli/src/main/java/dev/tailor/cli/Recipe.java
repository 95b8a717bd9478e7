package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A YAML or JSON file of command options (a training "recipe"): each key is an option's long name without the
 * dashes ({@code lr}, {@code batch-size} or {@code batch_size}); booleans switch flags on or off (or are the value
 * of an option that takes one, such as {@code init_ia3_weights: false}), lists repeat an option, and a mapping
 * gives a {@code KEY=VALUE} option once per entry ({@code adapter: {sql: adapters/sql}}). It becomes arguments
 * placed before the command line's, so flags given on the command line win (repeatable ones add to the file's).
 */
final class Recipe {
    private Recipe() {
    }

    /** The arguments the file stands for, as options of {@code command}. */
    static List<String> toArgs(Path file, CommandSpec command) {
        JsonNode root;
        try {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            ObjectMapper mapper = name.endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
            root = mapper.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the recipe: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": a recipe is a mapping of option names to values");
        }
        List<String> args = new ArrayList<>();
        for (var it = root.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            String option = "--" + e.getKey().replace('_', '-');
            JsonNode v = e.getValue();
            OptionSpec spec = command.findOption(option);
            if (v.isBoolean() && spec != null && spec.arity().max() > 0) {
                args.add(option + "=" + v.asBoolean());
            } else if (v.isBoolean()) {
                if (v.asBoolean()) {
                    args.add(option);
                }
            } else if (v.isArray()) {
                v.forEach(item -> {
                    args.add(option);
                    args.add(item.asText());
                });
            } else if (v.isObject()) {
                for (var entry = v.properties().iterator(); entry.hasNext(); ) {
                    var kv = entry.next();
                    if (!kv.getValue().isValueNode() || kv.getValue().isNull()) {
                        throw new IllegalArgumentException(file + ": option " + e.getKey() + "." + kv.getKey()
                                + " must be a value");
                    }
                    args.add(option);
                    args.add(kv.getKey() + "=" + kv.getValue().asText());
                }
            } else if (v.isValueNode() && !v.isNull()) {
                args.add(option);
                args.add(v.asText());
            } else if (!v.isNull()) {
                throw new IllegalArgumentException(file + ": option " + e.getKey() + " must be a value, a list, a "
                        + "mapping or a boolean");
            }
        }
        return args;
    }

    /**
     * Runs {@code command} again, as a fresh instance from {@code fresh}, on the file's arguments followed by the
     * command line's (without {@code fileOption} and its value), with the same error handling and streams.
     *
     * @return the exit status
     */
    static int rerun(Path file, String fileOption, CommandSpec command, Supplier<Object> fresh) {
        List<String> merged = new ArrayList<>(toArgs(file, command));
        List<String> original = command.commandLine().getParseResult().originalArgs();
        for (int i = original.indexOf(command.name()) + 1; i < original.size(); i++) {
            if (original.get(i).equals(fileOption)) {
                i++;
            } else if (!original.get(i).startsWith(fileOption + "=")) {
                merged.add(original.get(i));
            }
        }
        CommandLine cl = new CommandLine(fresh.get()).setOverwrittenOptionsAllowed(true);
        cl.setExecutionExceptionHandler(command.commandLine().getExecutionExceptionHandler());
        cl.setOut(command.commandLine().getOut());
        cl.setErr(command.commandLine().getErr());
        return cl.execute(merged.toArray(String[]::new));
    }
}
