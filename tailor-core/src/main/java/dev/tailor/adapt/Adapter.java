package dev.tailor.adapt;

import dev.tailor.model.site.AdapterSites;
import dev.tailor.tensor.Parameter;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One adapter of a model, whatever its method: its pieces at sites, its trainable tensors, and how it is saved.
 * {@link AdapterFiles#load} reads any saved adapter back.
 */
public interface Adapter {

    /** The method's type as saved in {@code adapter_config.json}'s {@code peft_type} ({@code LORA}, {@code IA3} …). */
    String type();

    /** One line for people: the method and its main options, e.g. {@code LoRA r=8 on 14 modules}. */
    String describe();

    /** Where it attaches. */
    AdapterSites sites();

    /**
     * This adapter for inference once its tensors no longer change (an adapter loaded to be served): it may keep what
     * every inference forward would otherwise derive from the tensors in each call (LoRA: {@code Bᵀ}), the same
     * values, so outputs keep their bits; not for training, whose updates its inference would not see. By default the
     * adapter itself.
     */
    default Adapter forInference() {
        return this;
    }

    /** Bytes it holds beside its tensors (what {@link #forInference} keeps); 0 by default. */
    default long heldBytes() {
        return 0;
    }

    /** Its trainable tensors, each once. */
    default List<Parameter> parameters() {
        return sites().parameters();
    }

    /** Trainable parameter count. */
    default long parameterCount() {
        return parameters().stream().mapToLong(Parameter::size).sum();
    }

    /**
     * Its {@code adapter_config.json} as saved: every key that says what was trained and how to apply it, so two
     * adapters with equal configs were made with equal options.
     *
     * @param baseModel the base's name or path ({@code base_model_name_or_path}), or null
     */
    Map<String, Object> config(String baseModel);

    /** Its tensors as saved in {@code adapter_model.safetensors}, under their saved names. */
    List<Parameter> savedTensors();

    /**
     * Writes {@code adapter_config.json} ({@link #config}) and {@code adapter_model.safetensors}
     * ({@link #savedTensors}) into {@code dir}, atomically; the base's fingerprint (may be null) goes into the
     * safetensors metadata ({@code tailor.base_fingerprint}).
     */
    default void save(Path dir, String baseModel, String baseFingerprint) {
        AdapterFiles.write(dir, config(baseModel), savedTensors(), baseFingerprint);
    }
}
