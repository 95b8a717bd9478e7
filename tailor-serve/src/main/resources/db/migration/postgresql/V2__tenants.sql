-- Tenants, their API keys, and who owns each registered adapter name.
-- PostgreSQL's twin of sqlite/V2__tenants.sql: the same tables, with times in seconds as 64-bit integers.

-- A tenant: a name its adapters belong to.
CREATE TABLE tenant (
    name    TEXT    PRIMARY KEY,
    created BIGINT  NOT NULL
);

-- An API key of a tenant, stored only as the hex SHA-256 of the key. Keys are 256-bit random tokens made by the
-- server, not passwords a person picks, so a fast unsalted hash is enough: nobody can guess one to test against
-- the hash, and a leaked database does not give the keys.
CREATE TABLE api_key (
    key_sha256 TEXT    PRIMARY KEY,
    tenant     TEXT    NOT NULL REFERENCES tenant (name),
    created    BIGINT  NOT NULL
);

-- Who owns a registered adapter name (all its versions): a tenant, or nobody (the admin's); shared ones are visible
-- to every tenant. A name registered before this migration has no row here: the admin's, not shared.
CREATE TABLE adapter_owner (
    name   TEXT    PRIMARY KEY,
    tenant TEXT    REFERENCES tenant (name),
    shared INTEGER NOT NULL DEFAULT 0
);
