package dev.tailor.adapt;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tailor.model.ModelConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One adapter method, as everything above {@code adapt} knows it: its names, its saved type, its options, and how
 * to make, load and describe its adapters. Each method is one package under {@code dev.tailor.adapt} that registers
 * its implementation as a service ({@code META-INF/services/dev.tailor.adapt.AdapterMethod}); {@link AdapterMethods}
 * finds them, so nothing below a method's package knows the list of methods (docs/ADDING-A-METHOD.md).
 */
public interface AdapterMethod {

    /**
     * What the registry and the command line know of a method before using it.
     *
     * @param peftType   the type its adapters are saved with in {@code adapter_config.json}'s {@code peft_type}
     * @param names      the names it is chosen by ({@code --method}), one per variant: {@code lora} and
     *                   {@code dora}, {@code seq_bn} and {@code double_seq_bn} …; lower case, unique among all methods
     * @param summary    one line for people: what it trains
     * @param options    the options {@link #create} reads, in the order a user would read them
     * @param configKeys the keys of its {@code adapter_config.json} besides the ones every PEFT config has, which
     *                   loading reads or knows to be safe to ignore (PEFT's later options, quantisation); others are
     *                   reported as unknown
     */
    record Info(String peftType, List<String> names, String summary, List<MethodOption> options,
                Set<String> configKeys) {
        /** Copies the lists. */
        public Info {
            names = List.copyOf(names);
            options = List.copyOf(options);
            configKeys = Set.copyOf(configKeys);
        }
    }

    /** Its names, type, options and config keys. */
    Info info();

    /** {@link Info#peftType()}. */
    default String peftType() {
        return info().peftType();
    }

    /** {@link Info#names()}. */
    default List<String> names() {
        return info().names();
    }

    /** {@link Info#summary()}. */
    default String summary() {
        return info().summary();
    }

    /** {@link Info#options()}. */
    default List<MethodOption> options() {
        return info().options();
    }

    /** {@link Info#configKeys()}. */
    default Set<String> configKeys() {
        return info().configKeys();
    }

    /**
     * A fresh adapter of variant {@code name} on {@code base}, seeded.
     *
     * @throws InvalidOptionException   naming an option whose value is wrong
     * @throws IllegalArgumentException when the adapter does not fit the base
     */
    Adapter create(String name, MethodOptions options, AdapterBase base, long seed);

    /**
     * The shape of the adapter {@link #create} makes of variant {@code name} with {@code options} on a base of
     * {@code config} named {@code baseName} (its {@code base_model_name_or_path}, may be null), worked out without
     * making it: its tensors by name and shape, its saved config, and what its pieces compute (for the cost model;
     * the base need not be on disk).
     *
     * @throws InvalidOptionException   naming an option whose value is wrong, as {@link #create} would
     * @throws IllegalArgumentException when the adapter does not fit the base
     */
    AdapterShape shape(String name, MethodOptions options, ModelConfig config, String baseName);

    /**
     * Reads the adapter saved in {@code dir}, whose parsed {@code adapter_config.json} is {@code config}.
     *
     * @throws IllegalArgumentException naming the file and key when the config is not one of this method
     * @throws dev.tailor.io.TensorFormatException naming the file and tensor when one is missing or misshapen
     */
    Adapter load(Path dir, JsonNode config);

    /**
     * Options, beyond its defaults, that make variant {@code name} fit a model of {@code config} where its defaults do
     * not (a PHM bottleneck's reduction factor must give whole blocks), for benchmarks and tests that build every method
     * with its defaults; empty by default.
     */
    default Map<String, List<String>> fittingOptions(String name, ModelConfig config) {
        return Map.of();
    }
}
