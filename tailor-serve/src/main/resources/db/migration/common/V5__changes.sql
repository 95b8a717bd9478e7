-- A row per adapter name that has been changed (V5; the same in SQLite and PostgreSQL). Every transaction that
-- changes a name's versions, aliases, traffic split, evaluations, pins or owner first inserts or updates its row,
-- which serialises the changes to one name across every server on the database (PostgreSQL holds the row's lock
-- until the transaction ends; SQLite takes its one write lock), so a compare-and-set reads what the change before it
-- committed. changes counts them.
CREATE TABLE adapter_change (
    name    TEXT   NOT NULL PRIMARY KEY,
    changes BIGINT NOT NULL
);
