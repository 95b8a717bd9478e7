-- Traffic splits and evaluations of the adapter registry's versions (V3; uses V1's tables only).
-- PostgreSQL's twin of sqlite/V3__traffic.sql: the same tables, with DOUBLE PRECISION for SQLite's REAL (which is
-- 64-bit there; PostgreSQL's REAL is 32-bit), 64-bit integers for counts and times, an identity column for
-- AUTOINCREMENT.

-- A plain name's traffic split, when it has one: its revision counts every change (compare-and-set), and
-- traffic_weight holds its current weights; no weights means no split (prod serves the name).
CREATE TABLE traffic_split (
    name     TEXT    NOT NULL PRIMARY KEY,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    changed  BIGINT  NOT NULL
);

CREATE TABLE traffic_weight (
    name    TEXT             NOT NULL,
    version INTEGER          NOT NULL,
    weight  DOUBLE PRECISION NOT NULL CHECK (weight >= 0),
    PRIMARY KEY (name, version),
    FOREIGN KEY (name, version) REFERENCES adapter_version (name, version)
);

-- Every evaluation of a version on a JSON Lines set, oldest first; a promotion compares the latest ones.
CREATE TABLE evaluation (
    id           BIGINT           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT             NOT NULL,
    version      INTEGER          NOT NULL,
    data         TEXT             NOT NULL,
    data_sha256  TEXT             NOT NULL,
    max_examples INTEGER,
    format       TEXT             NOT NULL,
    loss         DOUBLE PRECISION,
    perplexity   DOUBLE PRECISION,
    accuracy     DOUBLE PRECISION,
    tokens       BIGINT           NOT NULL,
    sequences    INTEGER          NOT NULL,
    seconds      DOUBLE PRECISION NOT NULL,
    evaluated    BIGINT           NOT NULL,
    FOREIGN KEY (name, version) REFERENCES adapter_version (name, version)
);

CREATE INDEX evaluation_by_version ON evaluation (name, version, id);
