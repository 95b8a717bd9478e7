package dev.tailor.bench;

import dev.tailor.generate.Sampler;
import dev.tailor.train.ProcessStats;
import dev.tailor.model.KvCache;
import dev.tailor.model.LlamaModel;
import dev.tailor.model.SequenceChunk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.function.Function;

/**
 * Prefill and decode benchmarks on a random model, measured as the PyTorch peer measures them:
 * prefill = a forward over {@code seq} tokens per sequence (median of {@code steps} after {@code warmup});
 * decode = greedy generation of {@code newTokens} after a {@code prompt}-token prefill, each step's logits written
 * into one array as {@code tailor generate}'s steps write theirs (median of {@code steps} after the warm-up). Both
 * map the model from a GGUF file, as the llama.cpp peer maps its own ({@link RandomModel#mapped}).
 */
public final class InferenceBench {
    private InferenceBench() {
    }

    /** Runs the prefill benchmark and returns its result fields. */
    public static Map<String, Object> prefill(BenchShape shape) {
        return onMappedModel(shape, model -> prefill(shape, model));
    }

    /**
     * The prefill benchmark on {@code model} with its products' regrouped copies made first, as {@code tailor serve}
     * and {@code tailor generate} make them ({@link LlamaModel#prepareProducts}), so that the prompts' packing reads
     * them (decoding makes them on first use).
     */
    private static Map<String, Object> prefill(BenchShape shape, LlamaModel model) {
        model.prepareProducts();
        SplittableRandom rnd = new SplittableRandom(1);
        int[][] batch = new int[shape.batch()][];
        for (int b = 0; b < batch.length; b++) {
            batch[b] = rnd.ints(shape.seq(), 0, shape.vocab()).toArray();
        }
        DoubleSupplier repetition = () -> {
            long t0 = System.nanoTime();
            for (int[] ids : batch) {
                model.prefill(model.newCache(shape.seq()), ids);
            }
            return (System.nanoTime() - t0) / 1e9;
        };
        int warmup = Warmup.run(shape.warmup(), repetition);
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < shape.steps(); i++) {
            times.add(repetition.getAsDouble());
        }
        double median = median(times);
        Map<String, Object> r = base("prefill", shape);
        r.put("seq", shape.seq());
        r.put("batch", shape.batch());
        r.put("warmup_steps", warmup);
        r.put("median_s", round(median, 4));
        r.put("tokens_per_s", round(shape.batch() * shape.seq() / median, 1));
        r.put("gflops", round(prefillFlops(shape) / median / 1e9, 1));
        return finish(r);
    }

    /**
     * Runs the decode benchmark and returns its result fields: a repetition prefills a random prompt and decodes
     * {@code newTokens} greedily; repetitions run until the compiler has settled ({@link Warmup}), then the medians of
     * {@code steps} measured ones are reported, as the llama.cpp peer reports the median of its measured repetitions
     * after its warm-up.
     */
    public static Map<String, Object> decode(BenchShape shape) {
        return onMappedModel(shape, model -> decode(shape, model));
    }

    /**
     * Runs {@code bench} on the random model of {@code shape} mapped from a GGUF file in the temporary directory,
     * deleted afterwards.
     */
    private static Map<String, Object> onMappedModel(BenchShape shape,
                                                     Function<LlamaModel, Map<String, Object>> bench) {
        Path file;
        try {
            file = Files.createTempFile("tailor-bench-", ".gguf");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the benchmark's model file: " + e.getMessage(), e);
        }
        try (LlamaModel model = RandomModel.mapped(shape, 0, file)) {
            Map<String, Object> r = bench.apply(model);
            r.put("weights", "mapped GGUF");
            return r;
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                System.err.println("warning: cannot delete " + file + ": " + e.getMessage());
            }
        }
    }

    private static Map<String, Object> decode(BenchShape shape, LlamaModel model) {
        SplittableRandom rnd = new SplittableRandom(1);
        KvCache cache = model.newCache(shape.prompt() + shape.newTokens() + 1);
        double[] seconds = new double[2];
        DoubleSupplier repetition = () -> {
            cache.clear();
            int[] prompt = rnd.ints(shape.prompt(), 0, shape.vocab()).toArray();
            long t0 = System.nanoTime();
            float[] logits = model.prefill(cache, prompt);
            long t1 = System.nanoTime();
            // a fresh [vocab] array a step (LlamaModel.decode) was ~2% of a Q4_0 token on the thread the others wait on
            float[][] next = {logits};
            for (int i = 0; i < shape.newTokens(); i++) {
                int token = Sampler.argmax(next[0]);
                model.forwardBatch(List.of(new SequenceChunk(model, cache, new int[] {token}, true)), next);
            }
            long t2 = System.nanoTime();
            seconds[0] = (t1 - t0) / 1e9;
            seconds[1] = (t2 - t1) / 1e9;
            return seconds[1];
        };
        int warmup = Warmup.run(shape.warmup(), repetition);
        List<Double> prompts = new ArrayList<>();
        List<Double> decodes = new ArrayList<>();
        for (int i = 0; i < shape.steps(); i++) {
            decodes.add(repetition.getAsDouble());
            prompts.add(seconds[0]);
        }
        double promptSeconds = median(prompts);
        double decodeSeconds = median(decodes);
        Map<String, Object> r = base("decode", shape);
        r.put("prompt", shape.prompt());
        r.put("new_tokens", shape.newTokens());
        r.put("warmup_steps", warmup);
        r.put("steps", shape.steps());
        r.put("prompt_s", round(promptSeconds, 4));
        r.put("decode_tokens_per_s", round(shape.newTokens() / decodeSeconds, 2));
        r.put("ms_per_token", round(decodeSeconds / shape.newTokens() * 1e3, 3));
        double bytesPerToken = (double) shape.parameters() * shape.dtype().blockBytes() / shape.dtype().blockSize();
        r.put("weight_gb_per_s", round(bytesPerToken * shape.newTokens() / decodeSeconds / 1e9, 1));
        return finish(r);
    }

    /**
     * Matrix-product FLOPs of a prefill: 2 per layer weight per token, causal attention ({@code QKᵀ} and {@code PV}
     * over the visible half), and the head for the last token only (the only logits a prefill needs).
     */
    static double prefillFlops(BenchShape s) {
        double tokens = (double) s.batch() * s.seq();
        long hd = s.dim() / s.heads();
        double layerWeights = (double) s.dim() * s.heads() * hd * 2 + (double) s.dim() * s.kvHeads() * hd * 2
                + 3.0 * s.dim() * s.ffn();
        double attention = 2.0 * s.seq() * s.seq() * s.heads() * hd * s.batch();
        return s.layers() * (2 * layerWeights * tokens + attention) + 2.0 * s.vocab() * s.dim() * s.batch();
    }

    static Map<String, Object> base(String mode, BenchShape shape) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", mode);
        r.put("impl", "tailor");
        r.put("dtype", shape.dtype().name());
        r.put("layers", shape.layers());
        r.put("dim", shape.dim());
        r.put("params", shape.parameters());
        return r;
    }

    static Map<String, Object> finish(Map<String, Object> r) {
        r.put("peak_rss_mib", round(ProcessStats.peakRssMib(), 1));
        r.put("threads", Integer.getInteger("tailor.threads", Runtime.getRuntime().availableProcessors()));
        return r;
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    static double round(double v, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(v * scale) / scale;
    }
}
