package dev.tailor.serve;

import dev.tailor.generate.ContinuousBatcher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The server's Prometheus metrics (Micrometer), scraped at {@code GET /metrics}:
 * {@code tailor_requests_total{endpoint,model,status}}, the histograms {@code tailor_request_seconds},
 * {@code tailor_time_to_first_token_seconds} and {@code tailor_inter_token_seconds} (between streamed pieces of
 * text), {@code tailor_generated_tokens_total} (its rate is the tokens per second), the running batch's
 * {@code tailor_batch_sequences} and {@code tailor_batch_rows} (per step: requests and token rows in it) and
 * {@code tailor_batch_step_seconds}, and the gauges {@code tailor_queue_length} (requests waiting for a place in the
 * batch), {@code tailor_batch_running} and {@code tailor_adapters_loaded} (in memory);
 * the adapter cache's gauges {@code tailor_adapter_cache_bytes} and {@code tailor_adapter_cache_budget_bytes},
 * counters {@code tailor_adapter_cache_hits_total}, {@code tailor_adapter_cache_misses_total} and
 * {@code tailor_adapter_cache_evictions_total}, and the histogram {@code tailor_adapter_load_seconds} (cold loads).
 */
final class ServerMetrics {
    /** The Content-Type of a scrape: Prometheus' text format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Duration[] REQUEST_BUCKETS = seconds(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
            300, 600);
    private static final Duration[] TOKEN_BUCKETS = seconds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            1, 2.5, 5, 10);

    private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128};
    private static final Duration[] LOAD_BUCKETS = seconds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            1, 2.5, 5, 10, 30);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer firstToken;
    private final Timer interToken;
    private final Counter generatedTokens;
    private final DistributionSummary batchSequences;
    private final DistributionSummary batchRows;
    private final Timer step;
    private volatile long lastGenerationNanos;

    ServerMetrics(ServedModels models) {
        Gauge.builder("tailor.adapters.loaded", models, ServedModels::adaptersLoaded)
                .description("adapters in memory: those loaded by name and the registry's versions in the cache")
                .register(registry);
        adapterCache(models.cache());
        firstToken = Timer.builder("tailor.time.to.first.token").description("from a request's arrival to its "
                + "first piece of text").serviceLevelObjectives(REQUEST_BUCKETS).register(registry);
        interToken = Timer.builder("tailor.inter.token").description("between two pieces of text of one generation")
                .serviceLevelObjectives(TOKEN_BUCKETS).register(registry);
        generatedTokens = Counter.builder("tailor.generated.tokens").description("tokens generated")
                .register(registry);
        batchSequences = DistributionSummary.builder("tailor.batch.sequences")
                .description("requests in one step of the running batch").serviceLevelObjectives(BATCH_BUCKETS)
                .register(registry);
        batchRows = DistributionSummary.builder("tailor.batch.rows")
                .description("token rows in one step of the running batch (decode tokens and prompt chunks)")
                .serviceLevelObjectives(BATCH_BUCKETS).register(registry);
        step = Timer.builder("tailor.batch.step").description("one forward step of the running batch")
                .serviceLevelObjectives(TOKEN_BUCKETS).register(registry);
    }

    /** Adds the gauges of {@code batcher}: requests waiting for a place, and running. */
    void watch(ContinuousBatcher batcher) {
        Gauge.builder("tailor.queue.length", batcher, ContinuousBatcher::waiting)
                .description("requests waiting for a place in the batch").register(registry);
        Gauge.builder("tailor.batch.running", batcher, ContinuousBatcher::running)
                .description("requests in the running batch").register(registry);
    }

    /** Records one step of the running batch. */
    void step(int sequences, int rows, long nanos) {
        batchSequences.record(sequences);
        batchRows.record(rows);
        step.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Notes how long a finished generation took, waiting included. */
    void generationTook(long nanos) {
        lastGenerationNanos = nanos;
    }

    /** How long the last finished generation took, waiting included (0 before the first). */
    long lastGenerationNanos() {
        return lastGenerationNanos;
    }

    /** The metrics of the cache of the registry's versions. */
    private void adapterCache(AdapterCache cache) {
        Gauge.builder("tailor.adapter.cache", cache, AdapterCache::bytes).baseUnit("bytes")
                .description("bytes of the tensors of the registry's versions in memory").register(registry);
        Gauge.builder("tailor.adapter.cache.budget", cache, AdapterCache::budget).baseUnit("bytes")
                .description("the adapter cache's budget (--adapter-cache-bytes)").register(registry);
        FunctionCounter.builder("tailor.adapter.cache.hits", cache, AdapterCache::hits)
                .description("versions a request named that were in memory").register(registry);
        FunctionCounter.builder("tailor.adapter.cache.misses", cache, AdapterCache::misses)
                .description("versions a request named that had to be loaded").register(registry);
        FunctionCounter.builder("tailor.adapter.cache.evictions", cache, AdapterCache::evictions)
                .description("versions evicted to keep within the budget").register(registry);
        Timer load = Timer.builder("tailor.adapter.load").description("reading and checking a version from the "
                + "adapter store").serviceLevelObjectives(LOAD_BUCKETS).register(registry);
        cache.onLoad(nanos -> load.record(nanos, TimeUnit.NANOSECONDS));
    }

    /** Counts one answered request and its duration. */
    void request(String endpoint, String model, int status, long nanos) {
        String code = Integer.toString(status);
        Counter.builder("tailor.requests").description("requests answered")
                .tags("endpoint", endpoint, "model", model, "status", code).register(registry).increment();
        Timer.builder("tailor.request").description("from a request's arrival to its last byte")
                .tags("endpoint", endpoint, "status", code).serviceLevelObjectives(REQUEST_BUCKETS)
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Records the time from a request's arrival to its first piece of text. */
    void firstToken(long nanos) {
        firstToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Records the time between two pieces of text. */
    void interToken(long nanos) {
        interToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Counts generated tokens. */
    void generated(int tokens) {
        generatedTokens.increment(tokens);
    }

    /** Every metric in Prometheus' text format. */
    String scrape() {
        return registry.scrape();
    }

    private static Duration[] seconds(double... values) {
        Duration[] d = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
        }
        return d;
    }
}
