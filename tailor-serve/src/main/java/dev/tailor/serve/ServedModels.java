package dev.tailor.serve;

import dev.tailor.adapt.AdaptedModel;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.PretrainedModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The models a server answers to: one base, under its id, and the adapters loaded on it, by name. A request's
 * {@code model} is the base's id, an adapter's name, or names joined by {@code +} to stack them in that order.
 * Resolving gives an immutable view: loading, replacing or unloading an adapter afterwards does not change it.
 */
public final class ServedModels {
    /** Joins adapter names into a stack in a request's {@code model} field. */
    public static final String STACK = "+";

    private final PretrainedModel pretrained;
    private final String baseId;
    private final AdaptedModel adapted;
    private final long created = System.currentTimeMillis() / 1000;

    /**
     * Serves {@code pretrained} (which stays the caller's to close) under {@code baseId}, checking adapters against its
     * {@link BaseFingerprint}.
     */
    public ServedModels(PretrainedModel pretrained, String baseId) {
        if (baseId == null || baseId.isBlank() || baseId.contains(STACK)) {
            throw new IllegalArgumentException("the base's id must be a non-blank name without '" + STACK
                    + "', got '" + baseId + "'");
        }
        this.pretrained = pretrained;
        this.baseId = baseId;
        this.adapted = new AdaptedModel(pretrained.model(), BaseFingerprint.compute(pretrained.dir()));
    }

    /** The base model with its tokenizer and chat template. */
    public PretrainedModel pretrained() {
        return pretrained;
    }

    /** The base's id. */
    public String baseId() {
        return baseId;
    }

    /** The adapters' names, in the order loaded. */
    public List<String> adapterNames() {
        return List.copyOf(adapted.names());
    }

    /** When the server started serving, in seconds since the epoch (the models' {@code created}). */
    public long created() {
        return created;
    }

    /**
     * The network a request's {@code model} names: the base, an adapter, or a stack {@code a+b}.
     *
     * @throws ApiException 404 naming the model and what is served
     */
    public LlamaModel resolve(String model) {
        if (model.equals(baseId)) {
            return adapted.base();
        }
        List<String> names = Arrays.asList(model.split("\\" + STACK, -1));
        try {
            return adapted.model(names);
        } catch (IllegalArgumentException e) {
            throw ApiException.modelNotFound(model, e.getMessage() + "; the base is '" + baseId + "'");
        }
    }

    /**
     * Loads the adapter in {@code dir} (any method) under {@code name}; replaces one of that name when
     * {@code inPlace}. The files are read and checked (format, method, shapes, base fingerprint) before anything
     * serving changes, so a bad adapter leaves every model as it was.
     *
     * @throws ApiException 400 naming the cause: a bad name, a name taken without {@code inPlace}, a missing
     *                      directory, or an adapter that cannot be read or does not fit this base
     */
    public void load(String name, Path dir, boolean inPlace) {
        checkName(name);
        if (name.equals(baseId)) {
            throw ApiException.badRequest("lora_name", "The lora adapter name '" + name
                    + "' conflicts with the served base model.");
        }
        if (!inPlace && adapted.names().contains(name)) {
            throw ApiException.badRequest("lora_name", "The lora adapter '" + name + "' has already been loaded. "
                    + "If you want to load the adapter in place, set 'load_inplace' to true.");
        }
        if (!Files.isDirectory(dir)) {
            throw ApiException.badRequest("lora_path", "'lora_path' " + dir + " is not a directory");
        }
        try {
            Adapter adapter = AdapterFiles.load(dir);
            String fingerprint = AdapterFiles.baseFingerprint(dir);
            if (inPlace) {
                adapted.replace(name, adapter, fingerprint);
            } else {
                adapted.add(name, adapter, fingerprint);
            }
        } catch (RuntimeException e) {
            throw ApiException.badRequest("lora_path", "cannot load adapter '" + name + "' from " + dir + ": "
                    + e.getMessage());
        }
    }

    /**
     * Unloads adapter {@code name}; requests already running on it finish with it.
     *
     * @throws ApiException 404 when there is no adapter of that name
     */
    public void unload(String name) {
        if (!adapted.names().contains(name)) {
            throw new ApiException(404, "NotFoundError", "adapter_not_found", "lora_name",
                    "The lora adapter '" + name + "' cannot be found.");
        }
        adapted.delete(name);
    }

    /** Every model a request may name: the base first, then each adapter. */
    public List<ModelCard> cards() {
        List<ModelCard> cards = new ArrayList<>();
        cards.add(ModelCard.of(baseId, created, null, pretrained.dir().toString()));
        for (String name : adapted.names()) {
            cards.add(ModelCard.of(name, created, baseId, null));
        }
        return cards;
    }

    private static void checkName(String name) {
        if (name == null || name.isBlank() || name.contains(STACK)) {
            throw ApiException.badRequest("lora_name", "'lora_name' must be a non-blank name without '" + STACK
                    + "', got " + (name == null ? "nothing" : "'" + name + "'"));
        }
    }
}
