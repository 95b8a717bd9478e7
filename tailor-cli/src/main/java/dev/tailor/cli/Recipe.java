package dev.tailor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A YAML or JSON file of command options (a training "recipe"): each key is an option's long name without the
 * dashes ({@code lr}, {@code batch-size} or {@code batch_size}); booleans switch flags on or off, lists repeat
 * an option. It becomes arguments placed before the command line's, so flags given on the command line win.
 */
final class Recipe {
    private Recipe() {
    }

    /** The arguments the file stands for. */
    static List<String> toArgs(Path file) {
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
            if (v.isBoolean()) {
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
