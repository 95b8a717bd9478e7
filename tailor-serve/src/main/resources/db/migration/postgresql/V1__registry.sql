-- The adapter registry: immutable versions of named adapters, and the moves of their aliases.
-- PostgreSQL's twin of sqlite/V1__registry.sql: the same tables, with 64-bit integers where SQLite's INTEGER is
-- 64-bit anyway (sizes, times in seconds) and an identity column for SQLite's AUTOINCREMENT.

-- One registered version; its files are the store's directory sha256/<sha256>.
CREATE TABLE adapter_version (
    name             TEXT    NOT NULL,
    version          INTEGER NOT NULL CHECK (version >= 1),
    sha256           TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    rank             INTEGER,
    bytes            BIGINT  NOT NULL,
    base_fingerprint TEXT,
    created          BIGINT  NOT NULL,
    PRIMARY KEY (name, version)
);

-- Every move of an alias, in order; an alias points at its latest move not undone (a rollback undoes one).
CREATE TABLE alias_move (
    id      BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name    TEXT    NOT NULL,
    alias   TEXT    NOT NULL,
    version INTEGER NOT NULL,
    moved   BIGINT  NOT NULL,
    undone  INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (name, version) REFERENCES adapter_version (name, version)
);

CREATE INDEX alias_move_by_alias ON alias_move (name, alias, undone, id);
