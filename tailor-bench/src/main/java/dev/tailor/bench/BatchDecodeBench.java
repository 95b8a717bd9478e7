package dev.tailor.bench;

import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.adapt.lora.LoraLayer;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.generate.Sampler;
import dev.tailor.model.KvCache;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.SequenceChunk;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Parameter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * Batched decoding in the engine, without the server: {@code streams} sequences advance one token per step through
 * {@link LlamaModel#forwardBatch} (batch-invariant products, as the server runs them), each on one of
 * {@code adapters} LoRA r=8 adapters on all linear layers round-robin (0: the base). The random model of the shape is
 * written as the Hugging Face directory {@code bench serve} serves and mapped from it, as the server loads it.
 * Reports tokens per second over all sequences and the time per step, so the cost of batching and of mixing adapters
 * shows apart from HTTP, each after the same warm-up as {@code bench decode}'s.
 */
public final class BatchDecodeBench {
    private static final int RANK = 8;

    private BatchDecodeBench() {
    }

    /** One result per (streams, adapters) pair. */
    public static List<Map<String, Object>> run(BenchShape shape, List<Integer> streams, List<Integer> adapters) {
        Path dir;
        try {
            dir = Files.createTempDirectory("tailor-bench-decode-batch");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the benchmark's model directory: " + e.getMessage(), e);
        }
        try {
            try (LlamaModel base = LlamaModel.load(ServeBench.writeBase(shape, dir.resolve("base")))) {
                return run(shape, base, streams, adapters);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark's model: " + e.getMessage(), e);
        } finally {
            ServeBench.deleteTree(dir);
        }
    }

    private static List<Map<String, Object>> run(BenchShape shape, LlamaModel base, List<Integer> streams,
                                                 List<Integer> adapters) {
        int most = adapters.stream().mapToInt(Integer::intValue).max().orElse(0);
        List<LlamaModel> views = new ArrayList<>();
        for (int i = 0; i < most; i++) {
            views.add(base.withAdapters(List.of(lora(base, i).forInference().sites())));
        }
        List<Map<String, Object>> results = new ArrayList<>();
        for (int n : streams) {
            for (int a : adapters) {
                results.add(measure(shape, base, n, a == 0 ? List.of(base) : views.subList(0, a), a));
            }
        }
        return results;
    }

    /**
     * One configuration: a repetition prefills every stream's random prompt, then decodes {@code newTokens} steps;
     * repetitions run until the compiler has settled ({@link Warmup}: the adapters' paths are compiled later than the
     * base's, so a fixed count of repetitions measured the adapters less warmed up), then the median of
     * {@code steps} measured ones is reported.
     */
    private static Map<String, Object> measure(BenchShape shape, LlamaModel base, int streams,
                                               List<LlamaModel> views, int adapterCount) {
        SplittableRandom rnd = new SplittableRandom(1);
        DoubleSupplier repetition = () -> {
            List<KvCache> caches = new ArrayList<>();
            List<SequenceChunk> prompts = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                LlamaModel view = views.get(s % views.size());
                KvCache cache = view.newCache(shape.prompt() + shape.newTokens() + 1);
                caches.add(cache);
                prompts.add(new SequenceChunk(view, cache, rnd.ints(shape.prompt(), 0, shape.vocab()).toArray(),
                        true));
            }
            float[][] logits = MatMul.batchInvariant(() -> base.forwardBatch(prompts));
            long t0 = System.nanoTime();
            for (int step = 0; step < shape.newTokens(); step++) {
                List<SequenceChunk> chunks = new ArrayList<>(streams);
                for (int s = 0; s < streams; s++) {
                    chunks.add(new SequenceChunk(prompts.get(s).model(), caches.get(s),
                            new int[] {Sampler.argmax(logits[s])}, true));
                }
                // each stream's logits array is reused, as the server's batcher reuses its requests'
                MatMul.batchInvariant(() -> {
                    base.forwardBatch(chunks, logits);
                    return null;
                });
            }
            return (System.nanoTime() - t0) / 1e9;
        };
        int warmup = Warmup.run(shape.warmup(), repetition);
        List<Double> measured = new ArrayList<>();
        for (int i = 0; i < shape.steps(); i++) {
            measured.add(repetition.getAsDouble());
        }
        double seconds = InferenceBench.median(measured);
        Map<String, Object> r = InferenceBench.base("decode_batch", shape);
        r.put("streams", streams);
        r.put("adapters", adapterCount);
        r.put("lora_r", adapterCount == 0 ? 0 : RANK);
        r.put("new_tokens", shape.newTokens());
        r.put("warmup_steps", warmup);
        r.put("steps", shape.steps());
        r.put("tokens_per_s", InferenceBench.round(streams * shape.newTokens() / seconds, 2));
        r.put("ms_per_step", InferenceBench.round(seconds / shape.newTokens() * 1e3, 3));
        return InferenceBench.finish(r);
    }

    /** A LoRA adapter (r 8, alpha 16, all linear layers, B small and random). */
    private static LoraModel lora(LlamaModel base, long seed) {
        LoraModel m = LoraModel.create(new LoraConfig(RANK, 2.0 * RANK, 0, List.of("all-linear"), false, null),
                base.config(), seed);
        SplittableRandom rnd = new SplittableRandom(seed + 1000);
        for (LoraLayer layer : m.modules().values()) {
            Parameter b = layer.parameters().get(1);
            for (int i = 0; i < b.size(); i++) {
                b.data()[i] = (float) rnd.nextDouble(-0.01, 0.01);
            }
        }
        return m;
    }
}
