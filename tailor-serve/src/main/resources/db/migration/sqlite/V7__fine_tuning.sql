-- Fine-tuning as a service (V7): uploaded training files, fine-tuning jobs with their workers' leases, their events
-- and checkpoints. Times in seconds since the epoch, but a lease's end in milliseconds by the database's clock.

-- A JSON Lines file uploaded for fine-tuning, checked when uploaded; its bytes are the state directory's
-- files/<id>.jsonl. owner is 'admin' or 'tenant:' and the tenant's name; seq orders the files as uploaded.
CREATE TABLE ft_file (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    owner      TEXT    NOT NULL,
    filename   TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    bytes      INTEGER NOT NULL,
    sha256     TEXT    NOT NULL,
    format     TEXT    NOT NULL,
    examples   INTEGER NOT NULL,
    tokens     INTEGER NOT NULL,
    labels     TEXT,
    created_at INTEGER NOT NULL
);

CREATE INDEX ft_file_by_owner ON ft_file (owner, seq);

-- A row per owner that has created a job: creating one first updates it, which serialises an owner's job creations
-- (their limits are checked inside that transaction).
CREATE TABLE ft_owner (
    owner TEXT    NOT NULL PRIMARY KEY,
    jobs  INTEGER NOT NULL
);

-- A fine-tuning job. settings holds what it trains as JSON (hyperparameters, adapter method and options, training
-- extensions, rollout). worker, attempt and lease_until are the claim of the worker running it: a worker holds it
-- while it renews the lease, and another claims it (attempt + 1) once the lease has run out. seq orders the jobs as
-- created.
CREATE TABLE ft_job (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    owner            TEXT    NOT NULL,
    model            TEXT    NOT NULL,
    base_fingerprint TEXT    NOT NULL,
    training_file    TEXT    NOT NULL,
    validation_file  TEXT,
    suffix           TEXT    NOT NULL,
    seed             INTEGER NOT NULL,
    settings         TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('validating_files', 'queued', 'running', 'succeeded',
                                                        'failed', 'cancelled')),
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    estimated_tokens INTEGER NOT NULL,
    trained_tokens   INTEGER,
    fine_tuned_model TEXT,
    error_code       TEXT,
    error_message    TEXT,
    error_param      TEXT,
    worker           TEXT,
    attempt          INTEGER NOT NULL DEFAULT 0,
    lease_until      INTEGER
);

CREATE INDEX ft_job_by_status ON ft_job (status, seq);
CREATE INDEX ft_job_by_owner ON ft_job (owner, seq);

-- What happened to a job, in order of id. event_key names each event once (a step's metrics, a message of one
-- attempt), so a worker that redoes steps after taking over a job adds no event twice.
CREATE TABLE ft_event (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job        TEXT    NOT NULL REFERENCES ft_job (id),
    event_key  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    level      TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    message    TEXT    NOT NULL,
    data       TEXT,
    UNIQUE (job, event_key)
);

-- A checkpoint a job's training saved (the trainer's resume point), with the metrics of its step as JSON.
CREATE TABLE ft_checkpoint (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job        TEXT    NOT NULL REFERENCES ft_job (id),
    step       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    metrics    TEXT    NOT NULL,
    UNIQUE (job, step)
);
