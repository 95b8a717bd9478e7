package dev.tailor.bench;

import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.train.ProcessStats;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.ModelConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Memory of many adapters on one base: builds the random base of the shape, then {@code count} LoRA adapters
 * (r, alpha 2r, all seven projections), each held as a model view sharing the base, and reports resident memory
 * before and after, beside what {@code count} fully fine-tuned copies would take.
 */
public final class AdapterMemoryBench {
    private AdapterMemoryBench() {
    }

    /** Runs the measurement. */
    public static Map<String, Object> run(BenchShape shape, int count, int rank) {
        LlamaModel base = RandomModel.build(shape, 0);
        ModelConfig config = base.config();
        int[] prompt = {1, 2, 3, 4, 5, 6, 7, 8};
        base.prefill(base.newCache(prompt.length), prompt);
        double before = settledRssMib();
        LoraConfig settings = new LoraConfig(rank, 2.0 * rank, 0, List.of("all-linear"), false, null);
        List<LlamaModel> views = new ArrayList<>();
        long adapterParams = 0;
        for (int i = 0; i < count; i++) {
            LoraModel adapter = LoraModel.create(settings, config, i);
            adapterParams += adapter.parameterCount();
            LlamaModel view = base.withAdapters(List.of(adapter.sites()));
            view.prefill(view.newCache(prompt.length), prompt);
            views.add(view);
        }
        double after = settledRssMib();
        double baseMib = (double) shape.parameters() * shape.dtype().blockBytes() / shape.dtype().blockSize() / (1 << 20);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", "adapters");
        r.put("impl", "tailor");
        r.put("adapters", views.size());
        r.put("lora_r", rank);
        r.put("base_mib", InferenceBench.round(baseMib, 1));
        r.put("adapter_params_each", adapterParams / Math.max(1, count));
        r.put("rss_before_mib", InferenceBench.round(before, 1));
        r.put("rss_after_mib", InferenceBench.round(after, 1));
        r.put("growth_mib", InferenceBench.round(after - before, 1));
        r.put("adapter_bytes_mib", InferenceBench.round(adapterParams * 4.0 / (1 << 20), 1));
        r.put("full_copies_mib", InferenceBench.round(baseMib * count, 1));
        r.put("peak_rss_mib", InferenceBench.round(ProcessStats.peakRssMib(), 1));
        return r;
    }

    private static double settledRssMib() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ProcessStats.rssMib();
    }
}
