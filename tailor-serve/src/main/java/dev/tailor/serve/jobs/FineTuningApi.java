package dev.tailor.serve.jobs;

import dev.tailor.serve.ApiException;
import dev.tailor.serve.ApiRequest;
import dev.tailor.serve.ApiRoutes;
import dev.tailor.serve.Caller;
import dev.tailor.serve.Database;
import dev.tailor.serve.ServedModels;
import dev.tailor.train.data.DatasetFormat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * OpenAI's files and fine-tuning jobs API on a server with an adapter registry, for the same tenants and keys:
 * {@code POST|GET /v1/files}, {@code GET|DELETE /v1/files/{file_id}}, {@code POST|GET /v1/fine_tuning/jobs},
 * {@code GET /v1/fine_tuning/jobs/{job_id}} and its {@code /cancel}, {@code /events} and {@code /checkpoints}. A tenant
 * sees and uses only its own files and jobs (another's answer exactly as missing ones); the admin sees all. Jobs are
 * recorded in the registry's database for the {@link Worker}s, which train them in their own processes; the server
 * only checks files and requests, and the tenant's {@link JobLimits}.
 *
 * <p>On a SQLite registry the server rereads what workers registered once a second ({@link RegistryPoller}); on
 * PostgreSQL its notifications do. Either way, a job answered as succeeded has its model served at once.
 */
public final class FineTuningApi implements ApiRoutes, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(FineTuningApi.class.getName());
    /** The ids OpenAI's clients send are these prefixes and a random tail. */
    private static final String FILE = "file-";

    private final ServedModels models;
    private final JobStore store;
    private final FileStore files;
    private final JobLimits limits;
    private final JobValidator validator;
    private final RegistryPoller poller;
    /** The succeeded jobs whose adapters this server has reread. */
    private final Set<String> synced = ConcurrentHashMap.newKeySet();

    /**
     * Fine-tuning of {@code models}' base, with the jobs in {@code store} (the registry's database) and the files in
     * the state directory {@code state}, each tenant within {@code limits}; checks at once any job left validating.
     */
    public FineTuningApi(ServedModels models, JobStore store, Path state, JobLimits limits) {
        this.models = models;
        this.store = store;
        this.files = new FileStore(state, models.pretrained().tokenizer(), models.pretrained().chatTemplateIfAny());
        this.limits = limits;
        this.validator = new JobValidator(store, state);
        this.poller = store.dialect() == Database.Dialect.SQLITE ? new RegistryPoller(store, models, 1000) : null;
        validator.recover();
    }

    @Override
    public void register(Routes routes) {
        routes.post("/v1/files", this::upload)
                .get("/v1/files", this::listFiles)
                .get("/v1/files/{file_id}", r -> ApiShapes.FileObject.of(file(r.pathParameter("file_id"), r.caller(),
                        null)))
                .delete("/v1/files/{file_id}", this::deleteFile)
                .post("/v1/fine_tuning/jobs", this::create)
                .get("/v1/fine_tuning/jobs", this::listJobs)
                .get("/v1/fine_tuning/jobs/{job_id}", r -> ApiShapes.JobObject.of(served(job(r))))
                .post("/v1/fine_tuning/jobs/{job_id}/cancel", this::cancel)
                .get("/v1/fine_tuning/jobs/{job_id}/events", this::events)
                .get("/v1/fine_tuning/jobs/{job_id}/checkpoints", this::checkpoints);
    }

    /** How {@code caller} is recorded as an owner: {@code admin} or {@code tenant:NAME}. */
    static String owner(Caller caller) {
        return caller.admin() ? "admin" : "tenant:" + caller.tenant();
    }

    /** What {@code caller} lists: its own, or everything for the admin. */
    private static String listed(Caller caller) {
        return caller.admin() ? null : owner(caller);
    }

    private static boolean visible(String owner, Caller caller) {
        return caller.admin() || owner.equals(owner(caller));
    }

    private Object upload(ApiRequest r) throws IOException {
        Caller caller = r.caller();
        TrainingFile file = files.receive(r, owner(caller), caller.admin() ? null : limits.maxFileBytes());
        try {
            store.insertFile(file);
        } catch (RuntimeException e) {
            files.delete(file.id());
            throw e;
        }
        LOG.info(() -> "stored file " + file.id() + " (" + file.filename() + ", " + file.examples() + " "
                + file.format() + " examples, " + file.tokens() + " tokens) for " + file.owner());
        return ApiShapes.FileObject.of(file);
    }

    private Object listFiles(ApiRequest r) {
        String order = r.query("order") == null ? "desc" : r.query("order");
        if (!order.equals("asc") && !order.equals("desc")) {
            throw ApiException.badRequest("order", "'order' must be asc or desc, got '" + order + "'");
        }
        String purpose = r.query("purpose");
        Page<TrainingFile> page = store.files(listed(r.caller()), purpose, r.query("after"),
                limit(r, 10_000, 10_000), order.equals("asc"));
        List<ApiShapes.FileObject> data = page.data().stream().map(ApiShapes.FileObject::of).toList();
        return ApiShapes.ListPage.of(data, page.hasMore(), data.isEmpty() ? null : data.getFirst().id(),
                data.isEmpty() ? null : data.getLast().id());
    }

    /**
     * The file {@code id} when {@code caller} may see it.
     *
     * @param param the request field that named it, for a 400; null to answer a missing file 404
     */
    private TrainingFile file(String id, Caller caller, String param) {
        TrainingFile f = id == null ? null : store.file(id);
        if (f == null || !visible(f.owner(), caller)) {
            String message = "no file '" + id + "'" + (id != null && !id.startsWith(FILE) ? " (file ids start with '"
                    + FILE + "')" : "") + "; upload one with POST /v1/files";
            throw param == null ? new ApiException(404, "invalid_request_error", "file_not_found", "file_id", message)
                    : ApiException.badRequest(param, message);
        }
        return f;
    }

    private Object deleteFile(ApiRequest r) {
        TrainingFile f = file(r.pathParameter("file_id"), r.caller(), null);
        String user = store.deleteFile(f.id());
        if (user != null) {
            throw ApiException.conflict("file_id", "file " + f.id() + " is used by fine-tuning job " + user
                    + ", which may still run; cancel it or wait for it to finish");
        }
        files.delete(f.id());
        return new ApiShapes.FileDeleted(f.id(), "file", true);
    }

    private Object create(ApiRequest r) throws IOException {
        Caller caller = r.caller();
        var body = r.body();
        String model = body.requiredString("model");
        if (!model.equals(models.baseId())) {
            throw ApiException.badRequest("model", "this server fine-tunes its base '" + models.baseId()
                    + "', not '" + model + "'");
        }
        JobRequest.Parsed p = JobRequest.parse(body, models.pretrained().model().config().maxPositions());
        TrainingFile training = file(p.trainingFile(), caller, "training_file");
        TrainingFile validation = p.validationFile() == null ? null : file(p.validationFile(), caller,
                "validation_file");
        if (validation != null) {
            checkCompatible(training, validation);
        }
        String id = JobStore.newId("ftjob-");
        String suffix = p.suffix() != null ? p.suffix() : id;
        checkName(suffix, caller);
        Job job = new Job(id, owner(caller), model, models.baseFingerprint(), training.id(),
                validation == null ? null : validation.id(), suffix, p.seed(), p.settings(),
                JobStatus.VALIDATING_FILES, System.currentTimeMillis() / 1000, null, null,
                training.tokens() * p.settings().nEpochs(), null, null, null, null, 0);
        store.createJob(job, caller.admin() ? null : limits);
        validator.submit(id);
        LOG.info(() -> "created fine-tuning job " + id + " of " + job.owner() + ": " + p.settings().method()
                + " adapter '" + suffix + "' on " + training.id());
        return ApiShapes.JobObject.of(job);
    }

    /** Refuses a validation file that {@code tailor train} could not evaluate beside {@code training}. */
    private static void checkCompatible(TrainingFile training, TrainingFile validation) {
        if (!validation.format().equals(training.format())) {
            throw ApiException.badRequest("validation_file", "the validation file " + validation.id() + " is "
                    + validation.format() + " data but the training file " + training.id() + " is "
                    + training.format() + "; they must have one format");
        }
        if (training.format().equals(DatasetFormat.CLASSIFICATION.id())) {
            var unknown = new HashSet<>(validation.labels());
            training.labels().forEach(unknown::remove);
            if (!unknown.isEmpty()) {
                throw ApiException.badRequest("validation_file", "the validation file " + validation.id()
                        + " has labels the training file never shows: " + unknown.stream().sorted().toList()
                        + " (training labels: " + training.labels() + ")");
            }
        }
    }

    /**
     * Refuses an adapter name that the job could not register for {@code caller}: the base's, one with the namespace
     * separator, or (the admin's) one another owner has. A tenant's names are its own, so no other tenant's can clash.
     */
    private void checkName(String name, Caller caller) {
        if (name.equals(models.baseId())) {
            throw ApiException.badRequest("suffix", "'" + name + "' is the base's id; name the adapter otherwise");
        }
        if (!caller.admin() && name.contains(":")) {
            throw ApiException.badRequest("suffix", "a suffix may not contain ':', got '" + name + "'");
        }
        String key = models.ownKey(name, caller);
        if (!models.adapterNames().contains(key)) {
            return;
        }
        var owner = models.owner(key);
        boolean ours = caller.admin() ? owner.tenant() == null && !owner.shared()
                : caller.tenant().equals(owner.tenant());
        if (!ours) {
            throw ApiException.conflict("suffix", "the adapter name '" + name + "' is taken; choose another suffix");
        }
    }

    private Job job(ApiRequest r) {
        String id = r.pathParameter("job_id");
        Job job = store.job(id);
        if (job == null || !visible(job.owner(), r.caller())) {
            throw new ApiException(404, "invalid_request_error", "job_not_found", "job_id", "no fine-tuning job '"
                    + id + "'");
        }
        return job;
    }

    /**
     * {@code job}, after rereading its adapter the first time this server sees it succeeded: the registry holds all the
     * worker did (version, evaluations, rollout) before the job succeeds, so a client that reads the job succeeded can
     * use its model at once, whether or not the server has been told of the changes yet.
     */
    private Job served(Job job) {
        if (job.status() == JobStatus.SUCCEEDED && synced.add(job.id())) {
            models.reread(models.ownKey(job.suffix(), Release.caller(job)));
        }
        return job;
    }

    private Object listJobs(ApiRequest r) {
        Page<Job> page = store.jobs(listed(r.caller()), r.query("after"), limit(r, 20, 100));
        List<ApiShapes.JobObject> data = page.data().stream().map(j -> ApiShapes.JobObject.of(served(j)))
                .toList();
        return ApiShapes.ListPage.of(data, page.hasMore(), null, null);
    }

    private Object cancel(ApiRequest r) {
        Job job = job(r);
        Job now = store.cancel(job.id());
        LOG.info(() -> "cancelled fine-tuning job " + job.id());
        return ApiShapes.JobObject.of(now);
    }

    private Object events(ApiRequest r) {
        Job job = job(r);
        Page<JobEvent> page = store.events(job.id(), cursor(r, ApiShapes.EVENT), limit(r, 20, 1000));
        return ApiShapes.ListPage.of(page.data().stream().map(ApiShapes.EventObject::of).toList(), page.hasMore(),
                null, null);
    }

    private Object checkpoints(ApiRequest r) {
        Job job = job(r);
        Page<JobCheckpoint> page = store.checkpoints(job.id(), cursor(r, ApiShapes.CHECKPOINT), limit(r, 10, 100));
        long last = page.data().stream().mapToLong(JobCheckpoint::step).max().orElse(-1);
        return ApiShapes.ListPage.of(page.data().stream().map(c -> ApiShapes.CheckpointObject.of(c,
                c.step() == last && job.status() == JobStatus.SUCCEEDED ? job.fineTunedModel() : null)).toList(),
                page.hasMore(), null, null);
    }

    /** The number of the {@code after} id ({@code prefix} and a number), or null without one. */
    private static Long cursor(ApiRequest r, String prefix) {
        String after = r.query("after");
        if (after == null) {
            return null;
        }
        try {
            return Long.parseLong(after.startsWith(prefix) ? after.substring(prefix.length()) : after);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("after", "'after' must be an id of this list (" + prefix + "N), got '"
                    + after + "'");
        }
    }

    private static int limit(ApiRequest r, int absent, int max) {
        String text = r.query("limit");
        if (text == null) {
            return absent;
        }
        try {
            int limit = Integer.parseInt(text);
            if (limit >= 1 && limit <= max) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ApiException.badRequest("limit", "'limit' must be a whole number from 1 to " + max + ", got '" + text
                + "'");
    }

    /** Stops checking files and polling the registry. */
    @Override
    public void close() {
        if (poller != null) {
            poller.close();
        }
        validator.close();
    }
}
