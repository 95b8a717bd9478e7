package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.serve.AdapterInfo;
import dev.tailor.serve.AdapterRegistry;
import dev.tailor.serve.AdapterStore;
import dev.tailor.serve.AdapterVersion;
import dev.tailor.serve.ApiException;
import dev.tailor.serve.Caller;
import dev.tailor.serve.Evaluation;
import dev.tailor.serve.ServedModels;
import dev.tailor.serve.TrafficSplit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * Ships a trained adapter through the registry the servers use ({@link ServedModels}, on the same database and
 * adapter store): registers it as the next version of the job's adapter name for the job's owner, evaluates it on the
 * validation file (and {@code prod} too, when {@code prod} has no evaluation on that file), then rolls it out as the
 * job asks: a first version becomes {@code prod}; a later one gets its canary share of the traffic beside
 * {@code prod}, or is promoted by the registry's rule ({@code require_no_worse}: only when its loss is no worse than
 * {@code prod}'s on the same data). Each step is skipped when done already, so a worker that takes over a job whose
 * previous worker died while shipping registers nothing twice: training resumed exactly saves the very same files,
 * and a version with the same hash is the one to use.
 */
final class Release {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JobStore store;
    private final ServedModels models;
    private final AdapterStore adapters;
    private final Path state;

    Release(JobStore store, ServedModels models, Path state) {
        this.store = store;
        this.models = models;
        this.state = state;
        this.adapters = new AdapterStore(state.resolve("store"));
    }

    /** Who registers the job's adapter: its owner. */
    static Caller caller(Job job) {
        return job.owner().startsWith("tenant:") ? new Caller(job.owner().substring(7)) : Caller.ADMIN;
    }

    /**
     * Registers, evaluates and rolls out the adapter saved in {@code dir} for {@code job}, telling each step as an
     * event while {@code claim} holds.
     *
     * @return the registered version, {@code name@n}
     * @throws ApiException when the registry refuses the adapter (the job then fails with its message)
     */
    String ship(Job job, Claim claim, Path dir) {
        String name = job.suffix();
        Caller caller = caller(job);
        String key = models.ownKey(name, caller);
        models.reread(key);
        String sha256 = hash(dir);
        AdapterInfo info = info(name, caller);
        Integer prod = info == null ? null : info.aliases().get(AdapterRegistry.PROD);
        Integer version = info == null ? null : info.versions().stream().filter(v -> v.sha256().equals(sha256))
                .map(AdapterVersion::version).findFirst().orElse(null);
        if (version == null) {
            version = models.register(name, dir, prod == null, null, false, caller, null).version();
        }
        int v = version;
        event(job, claim, "registered", "Registered the adapter as " + name + "@" + v
                + (prod == null ? ", now its prod version" : ""), null);
        if (job.validationFile() != null) {
            Path data = FileStore.path(state, job.validationFile());
            Evaluation candidate = evaluate(job, claim, name, key, v, data);
            if (prod != null && prod != v) {
                Evaluation current = evaluate(job, claim, name, key, prod, data);
                if (current != null && candidate != null && candidate.loss() != null && current.loss() != null
                        && candidate.loss() > current.loss()) {
                    event(job, claim, "rollout", "Kept " + name + "@" + prod + " as prod: version " + v
                            + "'s validation loss " + candidate.loss() + " is worse than its " + current.loss(), null);
                    return name + "@" + v;
                }
            }
        }
        if (prod != null && prod != v) {
            rollout(job, claim, name, key, prod, v);
        }
        return name + "@" + v;
    }

    private void rollout(Job job, Claim claim, String name, String key, int prod, int v) {
        Double canary = job.settings().canary();
        if (canary != null) {
            Map<Integer, Double> weights = new TreeMap<>(Map.of(prod, 1 - canary, v, canary));
            TrafficSplit now = models.registered(key).traffic();
            if (!now.versions().equals(weights)) {
                models.split(key, weights, null);
            }
            event(job, claim, "rollout", "Gave " + name + "@" + v + " " + canary + " of " + name + "'s traffic, "
                    + name + "@" + prod + " (prod) the rest", JSON.valueToTree(Map.of("traffic", weights)));
        } else if (job.settings().promote()) {
            try {
                models.moveAlias(key, AdapterRegistry.PROD, v, null, true);
                event(job, claim, "rollout", "Promoted " + name + "@" + v + " to prod (it was " + name + "@" + prod
                        + ")", null);
            } catch (ApiException e) {
                if (e.status() != 409) {
                    throw e;
                }
                event(job, claim, "rollout", "Kept " + name + "@" + prod + " as prod: " + e.getMessage(), null);
            }
        } else {
            event(job, claim, "rollout", "Left prod at " + name + "@" + prod + " as asked (rollout.promote false)",
                    null);
        }
    }

    /**
     * The latest evaluation of version {@code v} of the adapter the job's owner calls {@code name} (registry key
     * {@code key}) on {@code data}, running one when there is none (and telling it as an event).
     */
    private Evaluation evaluate(Job job, Claim claim, String name, String key, int v, Path data) {
        String sha256 = fileHash(data);
        Evaluation done = models.registered(key).evaluations().stream()
                .filter(e -> e.version() == v && e.dataSha256().equals(sha256) && e.maxExamples() == null)
                .reduce((a, b) -> b).orElse(null);
        Evaluation e = done != null ? done : models.evaluate(key, v, data, null);
        event(job, claim, "evaluated:" + v, String.format("Evaluated %s@%d on the validation file: loss %s%s", name,
                v, e.loss(), e.accuracy() == null ? "" : ", accuracy " + e.accuracy()), JSON.valueToTree(e));
        return e;
    }

    private AdapterInfo info(String name, Caller caller) {
        try {
            return models.registered(name, caller);
        } catch (ApiException e) {
            if (e.status() == 404) {
                return null;
            }
            throw e;
        }
    }

    private void event(Job job, Claim claim, String key, String message, Object data) {
        store.event(claim, job.id(), key, "info", "message", message, data == null ? null : JSON.valueToTree(data));
    }

    /** The adapter store's hash of the files in {@code dir}. */
    private String hash(Path dir) {
        AdapterStore.Staged staged = adapters.stage(dir);
        adapters.discard(staged);
        return staged.sha256();
    }

    private static String fileHash(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
