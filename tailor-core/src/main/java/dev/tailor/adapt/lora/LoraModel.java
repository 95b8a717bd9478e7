package dev.tailor.adapt.lora;

import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterSites;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * A LoRA adapter of a whole model: its options and one {@link LoraAdapter} per targeted module.
 *
 * @param settings     the options saved in {@code adapter_config.json}
 * @param modules      per module ({@code model.layers.0.self_attn.q_proj}), its pair
 * @param rankPattern  modules whose rank differs from {@code settings.r()}
 * @param alphaPattern modules whose alpha differs from {@code settings.loraAlpha()}
 */
public record LoraModel(LoraSettings settings, Map<String, LoraAdapter> modules, Map<String, Integer> rankPattern,
                        Map<String, Double> alphaPattern) implements Adapter {

    /** Copies the maps (sorted by module). */
    public LoraModel {
        modules = new TreeMap<>(modules);
        rankPattern = new TreeMap<>(rankPattern);
        alphaPattern = new TreeMap<>(alphaPattern);
    }

    /** Fresh adapters for every target of {@code settings}, as {@link PeftLoraAdapter#create} makes them. */
    public static LoraModel create(LoraSettings settings, dev.tailor.model.ModelConfig config, long seed) {
        return new LoraModel(settings, PeftLoraAdapter.create(settings, config, seed), Map.of(), Map.of());
    }

    @Override
    public String type() {
        return "LORA";
    }

    @Override
    public String describe() {
        return (settings.useRslora() ? "rsLoRA" : "LoRA") + " r=" + settings.r() + " on " + modules.size() + " modules";
    }

    @Override
    public AdapterSites sites() {
        return AdapterSites.ofLinear(modules);
    }

    @Override
    public void save(Path dir, String baseModel, String baseFingerprint) {
        PeftLoraAdapter.save(dir, settings, modules, baseModel, baseFingerprint, rankPattern, alphaPattern);
    }
}
