package dev.tailor.cost;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The costs of several methods on one base and one machine, as {@code tailor cost} prints them: a table with a column
 * per method, or one JSON object.
 *
 * @param base      the base
 * @param settings  the settings every method was costed with
 * @param estimates one per method, in the order given
 */
public record CostReport(CostBase base, CostSettings settings, List<CostEstimate> estimates) {

    /** Copies the list. */
    public CostReport {
        estimates = List.copyOf(estimates);
    }

    /** What the optimizer keeps per trainable value, in words. */
    public String optimizerState() {
        return switch (settings.optimizer()) {
            case ADAMW -> "AdamW: two moments (m, v) in F32 per trainable value, 8 bytes";
            case SGD -> "SGD with momentum: one F32 buffer per trainable value, 4 bytes";
        };
    }

    /**
     * The report as one JSON object: {@code model}, {@code settings}, {@code methods} (per method its parameters,
     * {@code memory_bytes}, {@code flops_per_token} and its parts, time and cost, {@code artifact_bytes},
     * {@code storage_bytes} and {@code serving_memory_bytes} for the tenants) and {@code hardware}.
     */
    public Map<String, Object> json() {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("name", base.name());
        model.put("model_type", base.config().modelType());
        model.put("parameters", base.parameters());
        model.put("layers", base.config().numLayers());
        model.put("hidden_size", base.config().hiddenSize());
        model.put("dtype", base.dtype().name());
        root.put("model", model);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("seq_len", settings.seqLen());
        s.put("batch_size", settings.batchSize());
        s.put("grad_accum", settings.gradAccum());
        s.put("tokens", settings.tokens());
        s.put("base_dtype", (settings.baseDtype() != null ? settings.baseDtype() : base.dtype()).name());
        s.put("trainable_dtype", settings.trainableDtype().name());
        s.put("activation_dtype", settings.activationDtype().name());
        s.put("gradient_checkpointing", settings.gradientCheckpointing());
        s.put("optimizer", settings.optimizer().key());
        s.put("optimizer_state", optimizerState());
        s.put("tenants", settings.tenants());
        s.put("utilization", settings.effectiveUtilization());
        s.put("time_model", settings.kernelPriced() ? "kernels" : "utilization");
        s.put("loss_share", settings.lossShare());
        s.put("price_per_hour", settings.price());
        root.put("settings", s);
        root.put("methods", estimates.stream().map(CostReport::json).toList());
        HardwareProfile h = settings.hardware();
        Map<String, Object> hw = new LinkedHashMap<>();
        hw.put("name", h.name());
        hw.put("description", h.description());
        hw.put("bf16_tflops", h.bf16Tflops());
        hw.put("fp32_tflops", h.fp32Tflops());
        hw.put("memory_bytes", h.memoryBytes());
        hw.put("bandwidth_bytes_per_second", h.bandwidth());
        hw.put("price_per_hour", h.pricePerHour());
        hw.put("utilization", h.utilization());
        hw.put("source", h.source());
        root.put("hardware", hw);
        return root;
    }

    private static Map<String, Object> json(CostEstimate e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", e.method());
        m.put("description", e.description());
        m.put("total_parameters", e.totalParameters());
        m.put("trainable_parameters", e.trainableParameters());
        m.put("trainable_percent", e.trainablePercent());
        m.put("lowest_trained_layer", e.stopLayer());
        m.put("tokens_per_sequence", e.tokensPerSequence());
        CostEstimate.Memory mem = e.memory();
        Map<String, Object> memory = new LinkedHashMap<>();
        memory.put("weights", mem.weights());
        memory.put("gradients", mem.gradients());
        memory.put("optimizer", mem.optimizer());
        memory.put("activations", mem.activations());
        memory.put("total", mem.total());
        memory.put("activations_without_checkpointing", mem.withoutCheckpointing());
        memory.put("activations_with_checkpointing", mem.withCheckpointing());
        m.put("memory_bytes", memory);
        m.put("fits", mem.fits());
        CostEstimate.Flops f = e.flops();
        m.put("flops_per_token", f.perToken());
        Map<String, Object> flops = new LinkedHashMap<>();
        flops.put("forward", f.forward());
        flops.put("input_gradients", f.inputGradients());
        flops.put("weight_gradients", f.weightGradients());
        flops.put("recompute", f.recompute());
        flops.put("adapter", f.adapter());
        flops.put("attention", f.attention());
        flops.put("total", e.time().totalFlops());
        m.put("flops", flops);
        CostEstimate.Time t = e.time();
        m.put("time_seconds", t.seconds());
        m.put("compute_seconds", t.computeSeconds());
        m.put("optimizer_seconds", t.optimizerSeconds());
        m.put("updates", t.updates());
        m.put("cost", t.money());
        m.put("artifact_bytes", e.artifactBytes());
        Map<String, Object> storage = tenants(e.storage());
        storage.put("full_copies", e.storage().tenants() * e.modelBytes());
        m.put("storage_bytes", storage);
        Map<String, Object> serving = tenants(e.serving());
        serving.put("kv_cache_per_sequence", e.kvCacheBytes());
        m.put("serving_memory_bytes", serving);
        return m;
    }

    private static Map<String, Object> tenants(CostEstimate.Tenants t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tenants", t.tenants());
        m.put("shared", t.shared());
        m.put("per_tenant", t.perTenant());
        m.put("total", t.total());
        return m;
    }

    /** The report as a table for people: a column per method, a row per figure, with the settings above it. */
    public String table() {
        HardwareProfile h = settings.hardware();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%s: %s parameters, %d layers, hidden %d, %s%n", base.name(),
                count(base.parameters()), base.config().numLayers(), base.config().hiddenSize(), base.dtype()));
        out.append(String.format(Locale.ROOT, "on %s (%s): peak %s TFLOP/s 16-bit, %s F32; %s; %s/hour; %s%n",
                h.name(), h.description(), number(h.bf16Tflops()), number(h.fp32Tflops()), bytes(h.memoryBytes()),
                money(settings.price()), settings.kernelPriced() ? "time from its measured kernels, shape by shape"
                        : String.format(Locale.ROOT, "%.0f%% utilisation", 100 * settings.effectiveUtilization())));
        out.append(String.format(Locale.ROOT, "%,d training tokens, sequences of %d in batches of %d%s%s%n",
                settings.tokens(), settings.seqLen(), settings.batchSize(),
                settings.gradAccum() > 1 ? ", " + settings.gradAccum() + " accumulated per update" : "",
                settings.gradientCheckpointing() ? ", gradient checkpointing" : ""));
        out.append(String.format(Locale.ROOT, "frozen weights %s, trainable %s, activations %s; %s%n%n",
                settings.baseDtype() != null ? settings.baseDtype() : base.dtype(), settings.trainableDtype(),
                settings.activationDtype(), optimizerState()));
        List<String[]> rows = new ArrayList<>();
        rows.add(row("", CostEstimate::method));
        rows.add(row("trainable parameters", e -> count(e.trainableParameters()) + " ("
                + percent(e.trainablePercent()) + ")"));
        rows.add(row("memory: weights", e -> bytes(e.memory().weights())));
        rows.add(row("        gradients", e -> bytes(e.memory().gradients())));
        rows.add(row("        optimizer state", e -> bytes(e.memory().optimizer())));
        rows.add(row("        activations", e -> bytes(e.memory().activations())));
        rows.add(row("        total", e -> bytes(e.memory().total()) + (e.memory().fits() ? "" : " (too big)")));
        rows.add(row("activations checkpointed / not", e -> bytes(e.memory().withCheckpointing()) + " / "
                + bytes(e.memory().withoutCheckpointing())));
        rows.add(row("FLOPs per token", e -> flops(e.flops().perToken())));
        rows.add(row("  of which attention", e -> flops(e.flops().attention())));
        rows.add(row("backward stops at layer", e -> Integer.toString(e.stopLayer())));
        rows.add(row("time", e -> duration(e.time().seconds())));
        rows.add(row("cost", e -> money(e.time().money())));
        rows.add(row("artifact", e -> bytes(e.artifactBytes())));
        String n = settings.tenants() + (settings.tenants() == 1 ? " tenant" : " tenants");
        rows.add(row("storage, " + n, e -> bytes(e.storage().total())));
        rows.add(row("serving memory, " + n, e -> bytes(e.serving().total())));
        rows.add(row("KV cache per sequence", e -> bytes(e.kvCacheBytes())));
        int[] widths = new int[estimates.size() + 1];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                widths[i] = Math.max(widths[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder(pad(r[0], widths[0]));
            for (int i = 1; i < r.length; i++) {
                line.append("   ").append(pad(r[i], widths[i]));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    private String[] row(String label, Function<CostEstimate, String> cell) {
        String[] r = new String[estimates.size() + 1];
        r[0] = label;
        for (int i = 0; i < estimates.size(); i++) {
            r[i + 1] = cell.apply(estimates.get(i));
        }
        return r;
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(width - s.length());
    }

    /** {@code 8.03 B}, {@code 3.41 M}, {@code 12.5 K}, {@code 640}. */
    static String count(double n) {
        if (n >= 1e9) {
            return String.format(Locale.ROOT, "%.2f B", n / 1e9);
        }
        if (n >= 1e6) {
            return String.format(Locale.ROOT, "%.2f M", n / 1e6);
        }
        if (n >= 1e4) {
            return String.format(Locale.ROOT, "%.1f K", n / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", n);
    }

    /** {@code 14.96 GiB}, {@code 13.6 MiB}, {@code 120 B}. */
    static String bytes(double b) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (b >= 1024 && u < units.length - 1) {
            b /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%.0f B", b)
                : String.format(Locale.ROOT, b >= 100 ? "%.0f %s" : b >= 10 ? "%.1f %s" : "%.2f %s", b, units[u]);
    }

    /** {@code 48.6 GFLOP}. */
    static String flops(double f) {
        String[] units = {"FLOP", "KFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"};
        int u = 0;
        while (f >= 1000 && u < units.length - 1) {
            f /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, f >= 100 ? "%.0f %s" : "%.1f %s", f, units[u]);
    }

    /** {@code 42 s}, {@code 3 min 20 s}, {@code 5 h 02 min}, {@code 3.2 days}. */
    static String duration(double seconds) {
        if (seconds < 60) {
            return String.format(Locale.ROOT, seconds < 10 ? "%.1f s" : "%.0f s", seconds);
        }
        if (seconds < 3600) {
            long s = Math.round(seconds);
            return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        }
        if (seconds < 48 * 3600) {
            long min = Math.round(seconds / 60);
            return String.format(Locale.ROOT, "%d h %02d min", min / 60, min % 60);
        }
        return String.format(Locale.ROOT, "%.1f days", seconds / 86400);
    }

    private static String money(double m) {
        return String.format(Locale.ROOT, m < 10 ? "$%.2f" : "$%,.0f", m);
    }

    private static String percent(double p) {
        return String.format(Locale.ROOT, p >= 10 ? "%.0f%%" : p >= 0.1 ? "%.2f%%" : "%.4f%%", p);
    }

    private static String number(double n) {
        return n == Math.rint(n) ? String.format(Locale.ROOT, "%.0f", n) : String.format(Locale.ROOT, "%.3g", n);
    }
}
