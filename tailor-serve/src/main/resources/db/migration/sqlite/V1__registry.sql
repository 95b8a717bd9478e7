-- The adapter registry: immutable versions of named adapters, and the moves of their aliases.

-- One registered version; its files are the store's directory sha256/<sha256>.
CREATE TABLE adapter_version (
    name             TEXT    NOT NULL,
    version          INTEGER NOT NULL CHECK (version >= 1),
    sha256           TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    rank             INTEGER,
    bytes            INTEGER NOT NULL,
    base_fingerprint TEXT,
    created          INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

-- Every move of an alias, in order; an alias points at its latest move not undone (a rollback undoes one).
CREATE TABLE alias_move (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    name    TEXT    NOT NULL,
    alias   TEXT    NOT NULL,
    version INTEGER NOT NULL,
    moved   INTEGER NOT NULL,
    undone  INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (name, version) REFERENCES adapter_version (name, version)
);

CREATE INDEX alias_move_by_alias ON alias_move (name, alias, undone, id);
