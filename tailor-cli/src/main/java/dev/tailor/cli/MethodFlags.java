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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The flags of the registered adapter methods' options on {@code tailor train} and {@code tailor cost}: added to the command when picocli
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
        return given(command, List.of(method), err).get(method);
    }

    /**
     * Per method of {@code methods} (as {@link #given(CommandSpec, String, PrintWriter)}), the method options given on
     * the command line that it takes; those none of them takes are ignored with a warning on {@code err}.
     */
    static Map<String, Map<String, List<String>>> given(CommandSpec command, List<String> methods, PrintWriter err) {
        Map<String, Map<String, List<String>>> byMethod = new LinkedHashMap<>();
        methods.forEach(m -> byMethod.put(m, new LinkedHashMap<>()));
        CommandLine.ParseResult parsed = command.commandLine().getParseResult();
        for (MethodOption o : AdapterMethods.options()) {
            OptionSpec matched = parsed.matchedOption(o.flag());
            if (matched == null) {
                continue;
            }
            List<String> takers = methods.stream().filter(m -> takes(m, o)).toList();
            if (takers.isEmpty()) {
                err.println("warning: " + o.flag() + " is not an option of --method " + String.join(",", methods)
                        + "; ignored");
                continue;
            }
            Object value = matched.getValue();
            List<String> texts = new ArrayList<>();
            if (value instanceof List<?> list) {
                list.forEach(v -> texts.add(String.valueOf(v)));
            } else {
                texts.add(String.valueOf(value));
            }
            takers.forEach(m -> byMethod.get(m).put(o.name(), texts));
        }
        return byMethod;
    }

    /** Whether the adapter method called {@code method} takes option {@code o} ({@code full}, {@code partial}: none). */
    private static boolean takes(String method, MethodOption o) {
        return AdapterMethods.names().contains(method)
                && AdapterMethods.byName(method).options().stream().anyMatch(m -> m.name().equals(o.name()));
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
     * {@code text} with the engine's names of options spelled as flags: {@code option} wherever it stands as a word,
     * and every other option name with an underscore ({@code phm_dim} becomes {@code --phm-dim}) among the registered
     * methods' options and the options of {@code command} (may be null).
     */
    static String spell(String text, String option, CommandSpec command) {
        Set<String> names = new LinkedHashSet<>(names());
        if (command != null) {
            command.options().forEach(o -> names.add(o.longestName().replaceFirst("^-+", "").replace('-', '_')));
        }
        if (option != null) {
            names.add(option);
        }
        String out = text;
        for (String name : names) {
            if (name.contains("_") || name.equals(option)) {
                out = Pattern.compile("(?<![\\w-])" + Pattern.quote(name) + "(?![\\w-])").matcher(out)
                        .replaceAll(Matcher.quoteReplacement(MethodOption.flag(name)));
            }
        }
        return out;
    }

    /** {@link #spell(String, String, CommandSpec)} with the registered methods' options only. */
    static String spell(String text, String option) {
        return spell(text, option, null);
    }

    /** {@link #spell(String, String, CommandSpec)} of a description, which names no option in particular. */
    private static String spell(String text) {
        return spell(text, null, null);
    }
}
