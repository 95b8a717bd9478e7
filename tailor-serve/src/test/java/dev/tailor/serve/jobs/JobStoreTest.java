package dev.tailor.serve.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tailor.serve.ApiException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jobs' table as workers use it: a claim takes the oldest queued job on the worker's base, never one another
 * worker holds, and a job whose lease ran out is taken over (the old claim then changes nothing); concurrent claims
 * never give one job twice; events are kept once per key; the limits hold; cancelling stops a claim. In SQLite here;
 * {@link PostgresJobStoreTest} runs the same on PostgreSQL. The tests share one database: each has a base and owners
 * of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobStoreTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration LONG = Duration.ofMinutes(5);
    /** Every file and job is made in the same second: they are listed in the order made all the same. */
    private static final long NOW = 1_000;

    @TempDir
    static Path tmp;
    JobStore store;
    /** This test's base fingerprint. */
    private String base;
    /** This test's two owners. */
    private String a;
    private String b;

    /** The database's JDBC URL. */
    String database() {
        return JobStore.sqliteUrl(tmp);
    }

    @BeforeAll
    void open() {
        store = JobStore.open(database());
    }

    @AfterAll
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @BeforeEach
    void names() {
        String tag = JobStore.newId("");
        base = "sha256:" + tag;
        a = "tenant:a" + tag;
        b = "tenant:b" + tag;
    }

    private TrainingFile file(String owner, long tokens) {
        TrainingFile f = new TrainingFile(JobStore.newId("file-"), owner, "data.jsonl", "fine-tune", 100, "abc",
                "text", 10, tokens, List.of(), NOW);
        store.insertFile(f);
        return f;
    }

    /** A job of {@code owner} on {@code base} expecting {@code tokens}, created (validating its files). */
    private Job job(String owner, String base, long tokens, JobLimits limits) {
        TrainingFile f = file(owner, tokens);
        Job job = new Job(JobStore.newId("ftjob-"), owner, "tiny", base, f.id(), null, "support", 42,
                new JobSettings(1, 2, 1, "lora", Map.of("r", List.of("4")), 64, 10, null, true),
                JobStatus.VALIDATING_FILES, NOW, null, null, tokens, null, null, null, null, 0);
        return store.createJob(job, limits);
    }

    private Job queued(String owner, String base) {
        Job job = job(owner, base, 100, null);
        assertTrue(store.validated(job.id(), null));
        return job;
    }

    @Test
    void aClaimTakesTheOldestQueuedJobOnItsBaseAndALapsedLeaseIsTakenOver() throws Exception {
        Job validating = job(a, base, 100, null);
        Job first = queued(a, base);
        Job other = queued(a, "sha256:other");
        Job second = queued(b, base);
        assertTrue(store.validating().contains(validating.id()));
        assertFalse(store.validating().contains(first.id()));

        Claim c1 = store.claim("w1", base, Duration.ofMillis(300));
        assertEquals(new Claim(first.id(), "w1", 1), c1);
        Claim c2 = store.claim("w2", base, LONG);
        assertEquals(new Claim(second.id(), "w2", 1), c2);
        assertNull(store.claim("w3", base, LONG), "the job validating, the other base's and the held ones are not "
                + "taken");
        Job running = store.job(first.id());
        assertEquals(JobStatus.RUNNING, running.status());
        assertEquals("w1", running.worker());
        assertNotNull(running.startedAt());
        assertEquals(JobStatus.QUEUED, store.job(other.id()).status());

        assertTrue(store.renew(c1, Duration.ofMillis(300)));
        store.event(c1, first.id(), "step:1", "info", "metrics", "step 1", JSON.readTree("{\"tokens\": 64}"));
        Thread.sleep(400);
        Claim c3 = store.claim("w3", base, LONG);
        assertEquals(new Claim(first.id(), "w3", 2), c3, "the lapsed lease is taken over, as attempt 2");
        assertFalse(store.renew(c1, LONG), "the first claim no longer holds");
        assertFalse(store.holds(c1));
        assertTrue(store.holds(c3));
        store.event(c1, first.id(), "step:2", "info", "metrics", "from the lost worker",
                JSON.readTree("{\"tokens\": 64}"));
        store.checkpoint(c1, 2, JSON.readTree("{\"step\": 2}"));
        store.event(c3, first.id(), "step:1", "info", "metrics", "step 1 again", JSON.readTree("{\"tokens\": 64}"));
        store.event(c3, first.id(), "step:2", "info", "metrics", "step 2", JSON.readTree("{\"tokens\": 32}"));
        store.checkpoint(c3, 2, JSON.readTree("{\"step\": 2, \"train_loss\": 1.5}"));
        store.checkpoint(c3, 2, JSON.readTree("{\"step\": 2, \"train_loss\": 9}"));
        assertFalse(store.finish(c1, JobStatus.SUCCEEDED, "support@1", 1, null, "done"), "a lost claim ends nothing");
        assertEquals(96, store.trainedTokens(first.id()), "each step's tokens once, the lost worker's not at all");
        assertTrue(store.finish(c3, JobStatus.SUCCEEDED, "support@1", 96, null, "done"));

        Job done = store.job(first.id());
        assertEquals(JobStatus.SUCCEEDED, done.status());
        assertEquals("support@1", done.fineTunedModel());
        assertEquals(96L, done.trainedTokens());
        assertEquals(2, done.attempt());
        assertNotNull(done.finishedAt());
        List<String> messages = store.events(first.id(), null, 100).data().stream().map(JobEvent::message).toList();
        assertEquals(List.of("done", "step 2", "step 1", "Validated training files",
                "Created fine-tuning job " + first.id()), messages, "newest first, each key once");
        Page<JobCheckpoint> checkpoints = store.checkpoints(first.id(), null, 10);
        assertEquals(1, checkpoints.data().size());
        assertEquals(1.5, checkpoints.data().getFirst().metrics().get("train_loss").asDouble());
    }

    @Test
    void workersClaimingAtOnceNeverTakeOneJobTwice() throws Exception {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 12; i++) {
            ids.add(queued(a, base).id());
        }
        int workers = 4;
        CyclicBarrier start = new CyclicBarrier(workers);
        List<Future<List<String>>> taken = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(workers)) {
            for (int w = 0; w < workers; w++) {
                String worker = "w" + w;
                taken.add(pool.submit(() -> {
                    start.await();
                    List<String> mine = new ArrayList<>();
                    for (Claim c = store.claim(worker, base, LONG); c != null; c = store.claim(worker, base, LONG)) {
                        mine.add(c.job());
                    }
                    return mine;
                }));
            }
            List<String> all = new ArrayList<>();
            for (Future<List<String>> f : taken) {
                all.addAll(f.get());
            }
            assertEquals(12, all.size(), "every job taken once: " + all);
            assertEquals(ids, Set.copyOf(all));
        }
    }

    @Test
    void eventsArePagedNewestFirst() {
        Job job = queued(a, base);
        Claim c = store.claim("w", base, LONG);
        for (int step = 1; step <= 5; step++) {
            store.event(c, job.id(), "step:" + step, "info", "metrics", "step " + step, null);
        }
        Page<JobEvent> first = store.events(job.id(), null, 3);
        assertTrue(first.hasMore());
        assertEquals(List.of("step 5", "step 4", "step 3"), first.data().stream().map(JobEvent::message).toList());
        Page<JobEvent> rest = store.events(job.id(), first.data().getLast().id(), 10);
        assertFalse(rest.hasMore());
        assertEquals(List.of("step 2", "step 1", "Validated training files", "Created fine-tuning job " + job.id()),
                rest.data().stream().map(JobEvent::message).toList());
    }

    @Test
    void aTenantsConcurrentJobsAndTrainingTokensAreLimited() {
        JobLimits limits = new JobLimits(1000, 2, 1000);
        job(a, base, 400, limits);
        Job second = job(a, base, 400, limits);
        ApiException busy = assertThrows(ApiException.class, () -> job(a, base, 100, limits));
        assertEquals(429, busy.status());
        assertTrue(busy.getMessage().contains("tenant '" + a.substring(7) + "' has 2 fine-tuning jobs"),
                busy.getMessage());
        job(b, base, 100, limits);

        store.cancel(second.id());
        ApiException spent = assertThrows(ApiException.class, () -> job(a, base, 700, limits));
        assertEquals(429, spent.status());
        assertTrue(spent.getMessage().contains("has used or reserved 400 of its 1000 training tokens; this job would "
                + "train 700 more"), spent.getMessage());
        ApiException never = assertThrows(ApiException.class, () -> job(a, base, 1001, limits));
        assertEquals(400, never.status());
        assertTrue(never.getMessage().contains("more than the 1000 training tokens tenant '" + a.substring(7)
                + "' may use"), never.getMessage());
        job(a, base, 600, limits);
        assertEquals(3, store.jobs(a, null, 10).data().size(), "the refused ones were not recorded");
    }

    @Test
    void cancellingEndsAQueuedOrRunningJobAndItsClaimButNotAFinishedOne() {
        Job queued = queued(a, base);
        Job running = queued(a, base);
        Job done = queued(a, base);
        Claim r = store.claim("w", base, LONG);
        Claim d = store.claim("w", base, LONG);
        assertEquals(queued.id(), r.job());
        assertEquals(running.id(), d.job());
        assertEquals(JobStatus.CANCELLED, store.cancel(queued.id()).status());
        assertFalse(store.holds(r));
        assertTrue(store.finish(d, JobStatus.SUCCEEDED, "support@1", 10, null, "done"));
        ApiException late = assertThrows(ApiException.class, () -> store.cancel(running.id()));
        assertEquals(409, late.status());
        assertTrue(late.getMessage().contains("has succeeded already"), late.getMessage());
        assertEquals(JobStatus.CANCELLED, store.cancel(queued.id()).status(), "cancelling twice is no error");
        assertNull(store.cancel("ftjob-none"));
        assertEquals(done.id(), store.claim("w", base, LONG).job());
    }

    @Test
    void aFileUsedByAJobThatMayStillRunIsNotDeleted() {
        Job job = queued(a, base);
        assertEquals(job.id(), store.deleteFile(job.trainingFile()));
        assertNotNull(store.file(job.trainingFile()));
        store.cancel(job.id());
        assertNull(store.deleteFile(job.trainingFile()));
        assertNull(store.file(job.trainingFile()));
        TrainingFile first = file(a, 1);
        TrainingFile second = file(a, 1);
        file(b, 1);
        assertEquals(List.of(second.id(), first.id()), store.files(a, "fine-tune", null, 10, false).data().stream()
                .map(TrainingFile::id).toList());
        assertEquals(List.of(second.id()), store.files(a, null, first.id(), 10, true).data().stream()
                .map(TrainingFile::id).toList());
    }
}
