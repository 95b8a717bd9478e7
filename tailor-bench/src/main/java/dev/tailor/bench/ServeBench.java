package dev.tailor.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tailor.adapt.lora.LoraConfig;
import dev.tailor.adapt.lora.LoraLayer;
import dev.tailor.adapt.lora.LoraModel;
import dev.tailor.train.ProcessStats;
import dev.tailor.model.BaseFingerprint;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.ModelExport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * {@code tailor bench serve}: the random model of a shape written as a servable Hugging Face directory (config, F32
 * or the shape's dtype safetensors, a generated tokenizer that decodes every id of the vocabulary), LoRA r=8 adapters
 * on all linear layers saved with the base's fingerprint, a server started on them (by the caller's
 * {@link Launcher}: this package stands below the server's) and a load generator over loopback: for each number of
 * concurrent streams and of distinct adapters, every stream sends {@code requests} streaming completions in turn
 * (prompt {@code shape.prompt()} tokens, {@code shape.newTokens()} new tokens, temperature 0, adapters round-robin)
 * and times the server-sent chunks as they arrive, after unmeasured passes of every configuration until their
 * times settle. One result per configuration and round (and, with several rounds, their medians); the temporary
 * files are deleted.
 */
public final class ServeBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The rank of the adapters. */
    public static final int RANK = 8;
    /** How long one request may take before the run fails. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(10);

    private ServeBench() {
    }

    /** Starts a server on a model directory and named adapter directories. */
    @FunctionalInterface
    public interface Launcher {
        /**
         * Serves {@code baseDir} as model {@code baseId} with {@code adapters} (name → directory) on loopback: loaded
         * at start, or, when {@code registered}, registered in a fresh registry and loaded on first use.
         */
        Running start(Path baseDir, String baseId, Map<String, Path> adapters, boolean registered) throws Exception;
    }

    /** A running server. */
    public interface Running extends AutoCloseable {
        /** The loopback port it listens on. */
        int port();

        @Override
        void close();
    }

    /**
     * One request's timings: to its first chunk with text, between such chunks, the completion tokens counted, and
     * when (on {@link System#nanoTime}) the first text chunk arrived.
     */
    record Timing(long ttftNanos, long[] gapsNanos, int tokens, long firstAtNanos) {
        /** When the last text chunk arrived. */
        long lastAtNanos() {
            return firstAtNanos + Arrays.stream(gapsNanos).sum();
        }
    }

    /**
     * Runs every (streams, adapters) configuration, {@code rounds} times over, each round after a {@code bench decode}
     * of its own (the reference its results carry; one more, unmeasured, runs before the server's warm-up), and
     * returns one result per configuration and round, in that order
     * (rounds outer, then streams, then adapters); with several rounds, then {@link ServeRounds#medians}; last, the
     * cold-start comparison.
     *
     * @param requests requests each stream sends in turn, per configuration
     * @param rounds   times every configuration runs
     */
    public static List<Map<String, Object>> run(BenchShape shape, List<Integer> streams, List<Integer> adapters,
                                                int requests, int rounds, Launcher launcher) throws Exception {
        if (streams.isEmpty() || adapters.isEmpty() || streams.stream().anyMatch(s -> s < 1)
                || adapters.stream().anyMatch(a -> a < 1) || requests < 1 || rounds < 1) {
            throw new IllegalArgumentException("--streams, --adapters, --requests and --rounds must be positive");
        }
        Path tmp = Files.createTempDirectory("tailor-bench-serve");
        try {
            Path base = writeBase(shape, tmp.resolve("base"));
            String fingerprint = BaseFingerprint.compute(base);
            int count = adapters.stream().mapToInt(Integer::intValue).max().orElseThrow();
            Map<String, Path> dirs = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                dirs.put("a" + i, writeAdapter(shape.config(), tmp.resolve("adapter-" + i), i, fingerprint));
            }
            List<Map<String, Object>> results = new ArrayList<>();
            try (Running server = launcher.start(base, "base", dirs, false)) {
                HttpClient http = metricsClient();
                URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/completions");
                // one bench decode before the server's warm-up, unmeasured: run first between the warm-up and the
                // measured configurations, its own model had the compiler redo some of the server's methods inside
                // the first measured window; each round's reference then runs in the warm process
                decodeTokensPerS(shape);
                // warm-up, as bench decode's: requests until the server's paths and the adapter's kernels are compiled
                int[] warmups = {0};
                Warmup.run(shape.warmup(), () -> warmupRequest(uri, prompt(shape.prompt(), warmups[0]++),
                        shape.newTokens()));
                for (int s : streams) {
                    for (int a : adapters) {
                        warmUp(shape, http, uri, s, a);
                    }
                }
                for (int round = 1; round <= rounds; round++) {
                    double decodeTokensPerS = decodeTokensPerS(shape);
                    for (int s : streams) {
                        for (int a : adapters) {
                            Map<String, Object> r = configuration(shape, http, uri, s, a, requests, decodeTokensPerS);
                            r.put("round", round);
                            results.add(r);
                        }
                    }
                }
            }
            if (rounds > 1) {
                results.addAll(ServeRounds.medians(results));
            }
            results.add(coldStart(shape, launcher, base, dirs));
            return results;
        } finally {
            deleteTree(tmp);
        }
    }

    /** {@code bench decode}'s tokens/s for {@code shape}, in this process: the one-stream goal's reference. */
    private static double decodeTokensPerS(BenchShape shape) {
        return ((Number) InferenceBench.decode(shape).get("decode_tokens_per_s")).doubleValue();
    }

    /**
     * A cold adapter against a warm one: a server whose adapters are registered and load on first use; for each of
     * up to 8 adapters, one request (cold: the adapter's files are read and checked first) then another (warm). The
     * load times come from the server's own {@code tailor_adapter_load_seconds}.
     */
    private static Map<String, Object> coldStart(BenchShape shape, Launcher launcher, Path base,
                                                 Map<String, Path> dirs) throws Exception {
        List<String> names = dirs.keySet().stream().limit(8).toList();
        double[] cold = new double[names.size()];
        double[] warm = new double[names.size()];
        double loadMs;
        try (Running server = launcher.start(base, "base", dirs, true)) {
            HttpClient http = metricsClient();
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/completions");
            request(uri, "base", prompt(shape.prompt(), 0), 4);
            for (int i = 0; i < names.size(); i++) {
                cold[i] = request(uri, names.get(i), prompt(shape.prompt(), i), 4).ttftNanos() / 1e6;
                warm[i] = request(uri, names.get(i), prompt(shape.prompt(), i), 4).ttftNanos() / 1e6;
            }
            String metrics = scrape(http, URI.create("http://127.0.0.1:" + server.port() + "/metrics"));
            loadMs = 1e3 * metric(metrics, "tailor_adapter_load_seconds_sum")
                    / Math.max(1, metric(metrics, "tailor_adapter_load_seconds_count"));
        }
        Arrays.sort(cold);
        Arrays.sort(warm);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", "serve_cold_start");
        r.put("impl", "tailor");
        r.put("lora_r", RANK);
        r.put("adapters", names.size());
        r.put("ttft_cold_p50_ms", InferenceBench.round(percentile(cold, 50), 2));
        r.put("ttft_warm_p50_ms", InferenceBench.round(percentile(warm, 50), 2));
        r.put("adapter_load_mean_ms", InferenceBench.round(loadMs, 2));
        r.put("cold_over_2warm_plus_load", InferenceBench.round(percentile(cold, 50)
                / (2 * percentile(warm, 50) + loadMs), 3));
        return r;
    }

    /** The server's Prometheus scrape. */
    private static String scrape(HttpClient http, URI metrics) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(metrics).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The value of an unlabelled metric in a Prometheus scrape (0 when absent). */
    private static double metric(String scrape, String name) {
        return scrape.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(
                l.substring(name.length() + 1).trim())).findFirst().orElse(0);
    }

    private static Map<String, Object> configuration(BenchShape shape, HttpClient http, URI uri, int streams,
                                                     int adapters, int requests, double decodeTokensPerS)
            throws Exception {
        List<List<Timing>> byStream = new ArrayList<>();
        URI metricsUri = uri.resolve("/metrics");
        String before = scrape(http, metricsUri);
        JvmTimes jvmBefore = JvmTimes.now();
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(streams)) {
            List<Future<List<Timing>>> futures = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                int stream = s;
                futures.add(pool.submit(() -> {
                    List<Timing> mine = new ArrayList<>();
                    for (int r = 0; r < requests; r++) {
                        int n = r * streams + stream;
                        mine.add(request(uri, "a" + (n % adapters), prompt(shape.prompt(), n),
                                shape.newTokens()));
                    }
                    return mine;
                }));
            }
            for (Future<List<Timing>> f : futures) {
                byStream.add(f.get());
            }
        }
        List<Timing> timings = byStream.stream().flatMap(List::stream).toList();
        double wall = (System.nanoTime() - t0) / 1e9;
        JvmTimes jvm = JvmTimes.now().since(jvmBefore);
        String after = scrape(http, metricsUri);
        double steps = metric(after, "tailor_batch_step_seconds_count")
                - metric(before, "tailor_batch_step_seconds_count");
        double stepSeconds = metric(after, "tailor_batch_step_seconds_sum")
                - metric(before, "tailor_batch_step_seconds_sum");
        double rows = metric(after, "tailor_batch_rows_sum") - metric(before, "tailor_batch_rows_sum");
        long tokens = timings.stream().mapToLong(Timing::tokens).sum();
        double[] ttft = timings.stream().mapToDouble(t -> t.ttftNanos() / 1e6).sorted().toArray();
        double[] itl = timings.stream().flatMapToLong(t -> Arrays.stream(t.gapsNanos()))
                .mapToDouble(g -> g / 1e6).sorted().toArray();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mode", "serve");
        r.put("impl", "tailor");
        r.put("dtype", shape.dtype().name());
        r.put("layers", shape.layers());
        r.put("dim", shape.dim());
        r.put("params", shape.parameters());
        r.put("lora_r", RANK);
        r.put("streams", streams);
        r.put("adapters", adapters);
        r.put("requests", timings.size());
        r.put("prompt", shape.prompt());
        r.put("new_tokens", shape.newTokens());
        r.put("tokens", tokens);
        r.put("wall_s", InferenceBench.round(wall, 3));
        r.put("requests_per_s", InferenceBench.round(timings.size() / wall, 3));
        r.put("tokens_per_s", InferenceBench.round(tokens / wall, 2));
        r.put("ttft_p50_ms", InferenceBench.round(percentile(ttft, 50), 2));
        r.put("ttft_p99_ms", InferenceBench.round(percentile(ttft, 99), 2));
        r.put("itl_p50_ms", InferenceBench.round(percentile(itl, 50), 2));
        r.put("itl_p99_ms", InferenceBench.round(percentile(itl, 99), 2));
        r.put("stream_decode_tokens_per_s", InferenceBench.round(streamDecodeTokensPerS(timings), 2));
        double[] allStreams = allStreamsTokensPerS(byStream);
        r.put("all_streams_tokens_per_s", InferenceBench.round(allStreams[0], 2));
        r.put("all_streams_window_s", InferenceBench.round(allStreams[1], 3));
        r.put("steps", (long) steps);
        r.put("step_mean_ms", InferenceBench.round(1e3 * stepSeconds / Math.max(1, steps), 2));
        r.put("rows_per_step", InferenceBench.round(rows / Math.max(1, steps), 2));
        r.put("batch_busy", InferenceBench.round(stepSeconds / wall, 3));
        r.put("jit_ms", jvm.jitMillis());
        r.put("gc_ms", jvm.gcMillis());
        r.put("decode_tokens_per_s", decodeTokensPerS);
        r.put("peak_rss_mib", InferenceBench.round(ProcessStats.peakRssMib(), 1));
        r.put("threads", Integer.getInteger("tailor.threads", Runtime.getRuntime().availableProcessors()));
        return r;
    }

    /**
     * A stream's decoding rate, as {@code bench decode} measures the engine's: the tokens after each request's first
     * over the time from its first to its last, summed over the requests (so, with several streams, the rate of one
     * of them; the prompt and the first token, which {@code tokens_per_s} counts, are left out).
     */
    static double streamDecodeTokensPerS(List<Timing> timings) {
        long tokens = 0;
        long nanos = 0;
        for (Timing t : timings) {
            tokens += t.tokens() - 1;
            nanos += Arrays.stream(t.gapsNanos()).sum();
        }
        return nanos == 0 ? 0 : tokens / (nanos / 1e9);
    }

    /**
     * The rate while every stream is in flight, without the start (the streams' first prompts arriving together) and
     * the end (streams that finished early leaving the others to run in smaller batches): text chunks that arrived
     * after the last stream's first text chunk and up to the first stream's last one, over that window's seconds.
     *
     * @param streams each stream's requests, in the order it sent them
     * @return the rate (0 when the window is empty) and the window's seconds
     */
    static double[] allStreamsTokensPerS(List<List<Timing>> streams) {
        long start = Long.MIN_VALUE;
        long end = Long.MAX_VALUE;
        for (List<Timing> s : streams) {
            start = Math.max(start, s.getFirst().firstAtNanos());
            end = Math.min(end, s.getLast().lastAtNanos());
        }
        if (streams.isEmpty() || end <= start) {
            return new double[] {0, 0};
        }
        long chunks = 0;
        for (List<Timing> s : streams) {
            for (Timing t : s) {
                long at = t.firstAtNanos();
                chunks += at > start && at <= end ? 1 : 0;
                for (long gap : t.gapsNanos()) {
                    at += gap;
                    chunks += at > start && at <= end ? 1 : 0;
                }
            }
        }
        double seconds = (end - start) / 1e9;
        return new double[] {chunks / seconds, seconds};
    }

    /** The nearest-rank percentile of sorted values (0 when there are none). */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
    }

    /** The client of the server's metrics (the completions go through {@link SsePost}). */
    private static HttpClient metricsClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    /**
     * Unmeasured passes of one configuration (a request per stream, all in flight together) until its time settles,
     * as {@link Warmup} does: a batch of several rows, many adapters and concurrent streams take paths of the engine,
     * the server and the client that one stream never compiles, and the compiler took a tenth of the two cores
     * during the first measured run of 16 streams when only one stream had warmed up. None with no warm-up.
     */
    private static void warmUp(BenchShape shape, HttpClient http, URI uri, int streams, int adapters) {
        Warmup.run(Math.min(shape.warmup(), 1), () -> {
            try {
                return ((Number) configuration(shape, http, uri, streams, adapters, 1, 0).get("wall_s")).doubleValue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while warming up the server", e);
            } catch (Exception e) {
                throw new IllegalStateException("a warm-up pass of " + streams + " streams over " + adapters
                        + " adapters failed", e);
            }
        });
    }

    /** One warm-up request to adapter {@code a0}; returns its seconds. */
    private static double warmupRequest(URI uri, String prompt, int newTokens) {
        long t0 = System.nanoTime();
        try {
            request(uri, "a0", prompt, newTokens);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * One streaming completion: the time to the first chunk with text, the gaps between chunks with text, and the
     * completion tokens the usage chunk counts.
     */
    static Timing request(URI uri, String model, String prompt, int newTokens) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        body.put("prompt", prompt);
        body.put("max_tokens", newTokens);
        body.put("temperature", 0);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        byte[] json = JSON.writeValueAsBytes(body);
        long sent = System.nanoTime();
        long first = -1;
        long last = 0;
        List<Long> gaps = new ArrayList<>();
        int tokens = -1;
        boolean done = false;
        try (SsePost res = SsePost.send(uri, json, REQUEST_TIMEOUT)) {
            if (res.status() != 200) {
                StringBuilder answer = new StringBuilder();
                for (String line = res.nextLine(); line != null; line = res.nextLine()) {
                    answer.append('\n').append(line);
                }
                throw new IllegalStateException("the server answered " + res.status() + ":" + answer);
            }
            for (String line = res.nextLine(); line != null; line = res.nextLine()) {
                if (!line.startsWith("data: ")) {
                    continue;
                }
                long now = System.nanoTime();
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    break;
                }
                JsonNode chunk = JSON.readTree(data);
                if (chunk.has("error")) {
                    throw new IllegalStateException("the stream ended with an error: " + data);
                }
                JsonNode usage = chunk.get("usage");
                if (usage != null && !usage.isNull()) {
                    tokens = usage.path("completion_tokens").asInt(-1);
                }
                JsonNode choices = chunk.path("choices");
                if (choices.size() > 0 && !choices.get(0).path("text").asText("").isEmpty()) {
                    if (first < 0) {
                        first = now;
                    } else {
                        gaps.add(now - last);
                    }
                    last = now;
                }
            }
            if (done) {
                res.drain();
            }
        }
        if (!done || first < 0 || tokens < 0) {
            throw new IllegalStateException("the stream for " + model + " ended early (done " + done
                    + ", text " + (first >= 0) + ", usage " + (tokens >= 0) + ")");
        }
        return new Timing(first - sent, gaps.stream().mapToLong(Long::longValue).toArray(), tokens, first);
    }

    /** A prompt of {@code tokens} single-character tokens of the generated tokenizer, different for each {@code n}. */
    static String prompt(int tokens, int n) {
        StringBuilder b = new StringBuilder(tokens);
        SplittableRandom rnd = new SplittableRandom(n);
        for (int i = 0; i < tokens; i++) {
            b.append((char) ('a' + rnd.nextInt(26)));
        }
        return b.toString();
    }

    /**
     * Writes the random model of {@code shape} (seed 0, as {@code tailor bench decode}) into {@code dir} with a
     * generated tokenizer: ids 0–94 the printable ASCII characters (so a prompt of n letters is n tokens), every
     * other id a word of its own, no merges, no special tokens (no end of sequence, so every request generates all
     * its tokens).
     */
    static Path writeBase(BenchShape shape, Path dir) throws IOException {
        ModelConfig c = shape.config();
        ObjectNode config = JSON.createObjectNode();
        config.putArray("architectures").add("LlamaForCausalLM");
        config.put("model_type", "llama");
        config.put("hidden_size", c.hiddenSize());
        config.put("intermediate_size", c.intermediateSize());
        config.put("num_hidden_layers", c.numLayers());
        config.put("num_attention_heads", shape.heads());
        config.put("num_key_value_heads", shape.kvHeads());
        config.put("head_dim", shape.dim() / shape.heads());
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 10000.0);
        config.put("vocab_size", c.vocabSize());
        config.put("max_position_embeddings", c.maxPositions());
        config.put("tie_word_embeddings", true);
        ModelExport.save(dir, config, RandomModel.weights(shape, 0), shape.dtype(), null);
        ObjectNode tokenizer = JSON.createObjectNode();
        tokenizer.put("version", "1.0");
        tokenizer.putArray("added_tokens");
        tokenizer.putNull("normalizer");
        tokenizer.putNull("pre_tokenizer");
        tokenizer.putNull("post_processor");
        tokenizer.putNull("decoder");
        ObjectNode model = tokenizer.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < c.vocabSize(); id++) {
            vocab.put(id < 95 ? String.valueOf((char) (' ' + id)) : " w" + id, id);
        }
        model.putArray("merges");
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizer);
        return dir;
    }

    /** A LoRA adapter (r 8, alpha 16, all linear layers, B small and random) saved with the base's fingerprint. */
    static Path writeAdapter(ModelConfig config, Path dir, long seed, String fingerprint) {
        LoraModel m = LoraModel.create(new LoraConfig(RANK, 2.0 * RANK, 0, List.of("all-linear"), false, null),
                config, seed);
        SplittableRandom rnd = new SplittableRandom(seed + 1000);
        for (LoraLayer layer : m.modules().values()) {
            Parameter b = layer.parameters().get(1);
            for (int i = 0; i < b.size(); i++) {
                b.data()[i] = (float) rnd.nextDouble(-0.01, 0.01);
            }
        }
        m.save(dir, "base", fingerprint);
        return dir;
    }

    /** Deletes {@code root} and everything under it. */
    static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root + ": " + e.getMessage(), e);
        }
    }
}
