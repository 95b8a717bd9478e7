package dev.tailor.adapt;

import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.LlamaWeights;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One base model, loaded once, with named adapters on it: PEFT's {@code PeftModel} verbs ({@code add_adapter},
 * {@code set_adapter}, {@code disable_adapter}, {@code delete_adapter}, {@code add_weighted_adapter},
 * {@code merge_and_unload}) for Tailor. The base is never modified: {@link #model()} is a cheap view of the base
 * with the active adapters stacked on it (cached per adapter list), and {@link #merge} returns new weights.
 *
 * <pre>{@code
 * Path dir = Path.of("models/llama-3.2-1b");
 * try (LlamaModel base = LlamaModel.load(dir)) {
 *     AdaptedModel model = new AdaptedModel(base, BaseFingerprint.compute(dir));
 *     model.add("sql", Path.of("adapters/sql"));             // checks it fits and was trained on this base
 *     model.add("support", Path.of("adapters/support"));
 *     LlamaModel sql = model.model("sql");                   // per call: one adapter
 *     float[] h = sql.forward(sql.newCache(ids.length), ids);
 *     model.set("support", "sql");                           // or a stack, in order
 *     model.disable();                                       // the base alone, until enable()
 *     model.combine(List.of("sql", "support"), LoraCombine.weighted(List.of(0.7, 0.3),
 *             new CombineOptions(CombinationType.TIES, 0.5, MajoritySignMethod.TOTAL, null, null, 0)), "mix");
 *     LlamaWeights merged = model.merge("mix");               // a standalone copy; the base is untouched
 * }
 * }</pre>
 *
 * <p>Thread safety: readers ({@link #model()}, {@link #model(String)}, {@link #merge}, the getters) work on an
 * immutable snapshot and take no lock, so a server can call them from many threads while an operator adds or
 * deletes adapters; the writers are serialised. A view obtained before a change keeps working on what it saw.
 */
public final class AdaptedModel {
    private final LlamaModel base;
    private final String baseFingerprint;
    private volatile State state = new State(Map.of(), List.of(), true, new ConcurrentHashMap<>());

    /**
     * The adapters, the active list, whether adapters are enabled, and the views built so far (by adapter list).
     */
    private record State(Map<String, Adapter> adapters, List<String> active, boolean enabled,
                         ConcurrentHashMap<List<String>, LlamaModel> views) {
    }

    /**
     * Adapters over {@code base} (which stays the caller's to close).
     *
     * @param baseFingerprint the base's {@link dev.tailor.model.BaseFingerprint}, checked against what adapters
     *                        record; or null to check nothing
     */
    public AdaptedModel(LlamaModel base, String baseFingerprint) {
        this.base = base.withoutAdapters();
        this.baseFingerprint = baseFingerprint;
    }

    /** The base model, without adapters. */
    public LlamaModel base() {
        return base;
    }

    /**
     * Adds an adapter read from {@code dir} ({@link AdapterFiles#load}), checking the base fingerprint it records.
     *
     * @throws IllegalArgumentException as {@link #add(String, Adapter, String)}
     */
    public void add(String name, Path dir) {
        add(name, AdapterFiles.load(dir), AdapterFiles.baseFingerprint(dir));
    }

    /**
     * Adds {@code adapter} under {@code name}, inactive, after checking it fits the model.
     *
     * @throws IllegalArgumentException when the name is taken, or naming the module or site that does not fit
     */
    public void add(String name, Adapter adapter) {
        add(name, adapter, null);
    }

    /**
     * Adds {@code adapter} under {@code name}, inactive, after checking it fits the model and, when both are known,
     * that it was trained on this base ({@code adapterFingerprint} is the one it records).
     *
     * @throws IllegalArgumentException when the name is taken, the fingerprints differ (naming both), or naming the
     *                                  module or site that does not fit
     */
    public synchronized void add(String name, Adapter adapter, String adapterFingerprint) {
        State s = state;
        if (s.adapters.containsKey(name)) {
            throw new IllegalArgumentException("an adapter named \"" + name + "\" exists already; delete it first");
        }
        put(s, name, adapter, adapterFingerprint);
    }

    /**
     * Puts {@code adapter} under {@code name} in one step, after the checks of {@link #add(String, Adapter, String)}:
     * it replaces an adapter of that name (and every view that stacked it) or adds it. A view obtained before keeps
     * the adapter it saw, so a request never mixes the two; when a check fails nothing changes.
     *
     * @throws IllegalArgumentException when the fingerprints differ (naming both), or naming the module or site that
     *                                  does not fit
     */
    public synchronized void replace(String name, Adapter adapter, String adapterFingerprint) {
        put(state, name, adapter, adapterFingerprint);
    }

    /**
     * Checks what {@link #add(String, Adapter, String)} checks, adding nothing: that {@code adapter} fits the model
     * and, when both are known, was trained on this base. A registry checks an adapter so before recording it, to
     * add it only when it is first used.
     *
     * @throws IllegalArgumentException when the fingerprints differ (naming both), or naming the module or site that
     *                                  does not fit
     */
    public void validate(String name, Adapter adapter, String adapterFingerprint) {
        viewOf(name, adapter, adapterFingerprint);
    }

    /** The view of {@code adapter} alone, after the checks of {@link #validate}. */
    private LlamaModel viewOf(String name, Adapter adapter, String adapterFingerprint) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("an adapter needs a name");
        }
        if (adapterFingerprint != null && baseFingerprint != null && !adapterFingerprint.equals(baseFingerprint)) {
            throw new IllegalArgumentException("adapter \"" + name + "\" was trained on base " + adapterFingerprint
                    + " but this base is " + baseFingerprint);
        }
        return base.withAdapters(List.of(adapter.sites()));
    }

    private void put(State s, String name, Adapter adapter, String adapterFingerprint) {
        LlamaModel view = viewOf(name, adapter, adapterFingerprint);
        Map<String, Adapter> adapters = new LinkedHashMap<>(s.adapters);
        adapters.put(name, adapter);
        ConcurrentHashMap<List<String>, LlamaModel> views = viewsWithout(s, name);
        views.put(List.of(name), view);
        state = new State(adapters, s.active, s.enabled, views);
    }

    private static ConcurrentHashMap<List<String>, LlamaModel> viewsWithout(State s, String name) {
        ConcurrentHashMap<List<String>, LlamaModel> views = new ConcurrentHashMap<>();
        s.views.forEach((k, v) -> {
            if (!k.contains(name)) {
                views.put(k, v);
            }
        });
        return views;
    }

    /**
     * Makes {@code names} the active adapters, stacked in this order (and enables adapters).
     *
     * @throws IllegalArgumentException naming an unknown or repeated adapter
     */
    public synchronized void set(String... names) {
        State s = state;
        List<String> active = List.of(names);
        check(s, active);
        state = new State(s.adapters, active, true, s.views);
    }

    /** Turns the adapters off: {@link #model()} is the base until {@link #enable()}. */
    public synchronized void disable() {
        State s = state;
        state = new State(s.adapters, s.active, false, s.views);
    }

    /** Turns the active adapters back on. */
    public synchronized void enable() {
        State s = state;
        state = new State(s.adapters, s.active, true, s.views);
    }

    /**
     * Removes an adapter (and from the active list).
     *
     * @throws IllegalArgumentException when there is none of that name
     */
    public synchronized void delete(String name) {
        State s = state;
        check(s, List.of(name));
        Map<String, Adapter> adapters = new LinkedHashMap<>(s.adapters);
        adapters.remove(name);
        ConcurrentHashMap<List<String>, LlamaModel> views = viewsWithout(s, name);
        List<String> active = s.active.stream().filter(n -> !n.equals(name)).toList();
        state = new State(adapters, active, s.enabled, views);
    }

    /**
     * Adds {@code newName}, the combination {@code how} of adapters {@code names} (LoRA's {@code
     * LoraCombine.weighted}, say), inactive.
     *
     * @return the new adapter
     * @throws IllegalArgumentException when {@code how} cannot take one of them, or as {@link #add}
     */
    public synchronized <A extends Adapter> A combine(List<String> names, AdapterCombination<A> how, String newName) {
        State s = state;
        check(s, names);
        SequencedMap<String, Adapter> named = new LinkedHashMap<>();
        for (String n : names) {
            named.put(n, s.adapters.get(n));
        }
        A combined = how.combine(named);
        add(newName, combined);
        return combined;
    }

    /** The model with the active adapters when enabled, else the base; a cached view, never to be closed. */
    public LlamaModel model() {
        State s = state;
        return view(s, s.enabled ? s.active : List.of());
    }

    /**
     * The model with adapter {@code name} alone, whatever is active: the per-request choice.
     *
     * @throws IllegalArgumentException when there is none of that name
     */
    public LlamaModel model(String name) {
        return model(List.of(name));
    }

    /**
     * The model with {@code names} stacked in order, whatever is active.
     *
     * @throws IllegalArgumentException naming an unknown or repeated adapter
     */
    public LlamaModel model(List<String> names) {
        State s = state;
        check(s, names);
        return view(s, List.copyOf(names));
    }

    /**
     * The base weights with adapters {@code names} (the active ones when none are named) merged in, in order
     * ({@link AdapterMerge#merge}); the base is not modified.
     *
     * @throws IllegalArgumentException naming an unknown adapter, or one that cannot be merged
     */
    public LlamaWeights merge(String... names) {
        State s = state;
        List<String> list = names.length == 0 ? s.active : List.of(names);
        check(s, list);
        return AdapterMerge.merge(base.weights(), sites(s, list));
    }

    /**
     * Takes adapters {@code names} (the active ones when none are named) out of weights {@link #merge} made of them
     * ({@link AdapterMerge#unmerge}): the base's values again, up to float rounding, in new float32 copies.
     *
     * @throws IllegalArgumentException naming an unknown adapter, or one that cannot be unmerged
     */
    public LlamaWeights unmerge(LlamaWeights merged, String... names) {
        State s = state;
        List<String> list = names.length == 0 ? s.active : List.of(names);
        check(s, list);
        return AdapterMerge.unmerge(merged, sites(s, list));
    }

    /** The adapters' names, in the order added. */
    public Set<String> names() {
        return java.util.Collections.unmodifiableSet(state.adapters.keySet());
    }

    /**
     * The adapter named {@code name}.
     *
     * @throws IllegalArgumentException when there is none of that name
     */
    public Adapter adapter(String name) {
        State s = state;
        check(s, List.of(name));
        return s.adapters.get(name);
    }

    /** The active adapters, in stacking order (kept while disabled). */
    public List<String> active() {
        return state.active;
    }

    /** Whether adapters are enabled (see {@link #disable()}). */
    public boolean enabled() {
        return state.enabled;
    }

    private LlamaModel view(State s, List<String> names) {
        return s.views.computeIfAbsent(names, k -> k.isEmpty() ? base : base.withAdapters(sites(s, k)));
    }

    private static List<AdapterSites> sites(State s, List<String> names) {
        return names.stream().map(n -> s.adapters.get(n).sites()).toList();
    }

    private static void check(State s, List<String> names) {
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            if (!s.adapters.containsKey(n)) {
                throw new IllegalArgumentException("no adapter named \"" + n + "\" (have "
                        + Arrays.toString(s.adapters.keySet().toArray()) + ")");
            }
            if (names.subList(0, i).contains(n)) {
                throw new IllegalArgumentException("adapter \"" + n + "\" is listed twice in " + names);
            }
        }
    }
}
