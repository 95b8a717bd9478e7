package dev.tailor.serve.jobs;

import dev.tailor.serve.ServedModels;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps a server on a SQLite registry in step with what workers (other processes) register there: once a second it
 * reads each adapter name's change count ({@code adapter_change}, which every change to a name increments) and has
 * the server reread the names whose count moved. PostgreSQL needs none: its servers are told by notifications.
 */
final class RegistryPoller implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RegistryPoller.class.getName());

    private final JobStore store;
    private final ServedModels models;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tailor-registry-poller");
        t.setDaemon(true);
        return t;
    });
    private Map<String, Long> seen;

    /** Polls every {@code periodMillis} until closed. */
    RegistryPoller(JobStore store, ServedModels models, long periodMillis) {
        this.store = store;
        this.models = models;
        timer.scheduleWithFixedDelay(this::poll, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    private void poll() {
        try {
            Map<String, Long> now = store.registryChanges();
            if (seen == null) {
                models.reread(null);
            } else {
                now.forEach((name, changes) -> {
                    if (!changes.equals(seen.get(name))) {
                        models.reread(name);
                    }
                });
            }
            seen = new HashMap<>(now);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot read the registry's changes", e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
