package dev.tailor.cli;

import dev.tailor.adapt.AdapterMethod;
import dev.tailor.adapt.AdapterMethods;
import dev.tailor.adapt.MethodOption;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The flags of the registered adapter methods' options on {@code tailor train}: added to the command when picocli
 * builds it, one per option name ({@code lora_alpha} is {@code --lora-alpha}), and read back as the values the chosen
 * method is given. Also spells the engine's option names as flags in messages and help.
 */
final class MethodFlags implements CommandLine.IModelTransformer {

    /** Adds a flag for every registered method option. */
    @Override
    public CommandSpec transform(CommandSpec command) {
        for (MethodOption o : AdapterMethods.options()) {
            OptionSpec.Builder b = OptionSpec.builder(o.flag()).description(description(o.name()));
            switch (o.kind()) {
                case FLAG -> b.type(boolean.class).arity("0");
                case LIST -> b.type(List.class).auxiliaryTypes(String.class).splitRegex(",").arity("1");
                case BOOLEAN -> b.type(String.class).arity("1").paramLabel("true|false");
                case INT, DECIMAL, TEXT -> b.type(String.class).arity("1");
            }
            command.addOption(b.build());
        }
        return command;
    }

    /** The descriptions of option {@code name} in every method that has it, each with its default, joined. */
    private static String description(String name) {
        List<String> parts = new ArrayList<>();
        for (AdapterMethod m : AdapterMethods.all()) {
            m.options().stream().filter(o -> o.name().equals(name)).forEach(o -> parts.add(spell(o.description())
                    + (o.defaultValue() == null ? "" : " (default " + o.defaultValue() + ")")));
        }
        return String.join("; ", parts.stream().distinct().toList());
    }

    /**
     * The method options given on the command line that the adapter method {@code method} takes (none for
     * {@code full}, {@code partial} or a name no method has); others given are ignored with a warning on
     * {@code err}.
     */
    static Map<String, List<String>> given(CommandSpec command, String method, PrintWriter err) {
        List<String> taken = !AdapterMethods.names().contains(method) ? List.of()
                : AdapterMethods.byName(method).options().stream().map(MethodOption::name).toList();
        Map<String, List<String>> given = new LinkedHashMap<>();
        CommandLine.ParseResult parsed = command.commandLine().getParseResult();
        for (MethodOption o : AdapterMethods.options()) {
            OptionSpec matched = parsed.matchedOption(o.flag());
            if (matched == null) {
                continue;
            }
            if (!taken.contains(o.name())) {
                err.println("warning: " + o.flag() + " is not an option of --method " + method + "; ignored");
                continue;
            }
            Object value = matched.getValue();
            List<String> texts = new ArrayList<>();
            if (value instanceof List<?> list) {
                list.forEach(v -> texts.add(String.valueOf(v)));
            } else {
                texts.add(String.valueOf(value));
            }
            given.put(o.name(), texts);
        }
        return given;
    }

    /** The names of every registered method option, for messages: {@code lora_alpha} and so on. */
    private static List<String> names() {
        List<String> names = new ArrayList<>();
        for (AdapterMethod m : AdapterMethods.all()) {
            m.options().forEach(o -> names.add(o.name()));
        }
        return names;
    }

    /**
     * {@code text} with the engine's names of options spelled as flags: every registered method option and every
     * option of {@code tailor train} whose name has an underscore ({@code phm_dim} becomes {@code --phm-dim}), and
     * {@code option}, whatever its name, wherever it stands as a word.
     */
    static String spell(String text, String option) {
        String out = text;
        if (option != null) {
            out = Pattern.compile("(?<![\\w-])" + Pattern.quote(option) + "(?![\\w-])").matcher(out)
                    .replaceAll(Matcher.quoteReplacement(MethodOption.flag(option)));
        }
        return spell(out);
    }

    private static String spell(String text) {
        String out = text;
        List<String> names = new ArrayList<>(names());
        names.addAll(List.of("grad_accum", "warmup_steps", "eval_every", "save_every", "log_every",
                "keep_checkpoints", "weight_decay", "max_grad_norm", "train_layers", "train_modules", "bias_norm_only",
                "train_embeddings", "train_head", "svd_rank", "svd_clamp", "eval_split"));
        for (String name : names) {
            if (name.contains("_")) {
                out = Pattern.compile("(?<![\\w-])" + Pattern.quote(name) + "(?![\\w-])").matcher(out)
                        .replaceAll(Matcher.quoteReplacement(MethodOption.flag(name)));
            }
        }
        return out;
    }
}
