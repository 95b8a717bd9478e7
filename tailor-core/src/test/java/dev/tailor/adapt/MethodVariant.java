package dev.tailor.adapt;

import dev.tailor.model.ModelConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One variant of a registered adapter method ({@code lora} and {@code dora} of LoRA …), as the contract tests run
 * them: every registered method's every name, so a newly registered method is tested by registering.
 *
 * @param method the registered method
 * @param name   the variant's name
 */
public record MethodVariant(AdapterMethod method, String name) {

    /** Every variant of every registered method, in registration order. */
    public static Stream<MethodVariant> all() {
        return AdapterMethods.all().stream().flatMap(m -> m.names().stream().map(n -> new MethodVariant(m, n)));
    }

    /** The options that make the variant's defaults fit a model of {@code config}, with {@code extra} over them. */
    public Map<String, List<String>> given(ModelConfig config, Map<String, List<String>> extra) {
        Map<String, List<String>> given = new LinkedHashMap<>(method.fittingOptions(name, config));
        given.putAll(extra);
        return given;
    }

    /** A fresh adapter on {@code base} with its fitting options and {@code extra} over them. */
    public Adapter create(AdapterBase base, Map<String, List<String>> extra, long seed) {
        return method.create(name, MethodOptions.of(method.options(), given(base.config(), extra)), base, seed);
    }

    /** The name, as test reports show the variant. */
    @Override
    public String toString() {
        return name;
    }
}
