package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A YAML or JSON file of command options (a training "recipe"): each key is an option's long name without the
 * dashes ({@code lr}, {@code batch-size} or {@code batch_size}); booleans switch flags on or off (or are the value
 * of an option that takes one, such as {@code init_ia3_weights: false}), lists repeat an option. It becomes
 * arguments placed before the command line's, so flags given on the command line win.
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
            } else if (v.isValueNode() && !v.isNull()) {
                args.add(option);
                args.add(v.asText());
            } else if (!v.isNull()) {
                throw new IllegalArgumentException(file + ": option " + e.getKey() + " must be a value, a list or a boolean");
            }
        }
        return args;
    }
}
