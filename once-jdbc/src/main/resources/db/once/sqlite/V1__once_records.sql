-- Once idempotency records for SQLite 3.42+. Copy into your migrations (Flyway, Liquibase) or let
-- JdbcIdempotencyStore create it (createSchema(true)). Rename the table if you like; tell the store.
CREATE TABLE IF NOT EXISTS once_records (
    id          BLOB    NOT NULL PRIMARY KEY, -- SHA-256 of (tenant, operation, key); the raw key is never stored
    status      TEXT    NOT NULL,             -- 'P' in progress, 'C' completed
    fingerprint BLOB    NOT NULL,             -- SHA-256 of the request the key was first used with
    token       INTEGER NOT NULL,             -- fencing token from once_records_token_seq
    nonce       INTEGER NOT NULL,             -- acquisition time (epoch ms), negated when it took over an expired lease; MariaDB and H2 keep a random nonce here
    lease_until INTEGER NOT NULL,             -- epoch ms by the database clock
    expires_at  INTEGER NOT NULL,             -- epoch ms by the database clock; the record is dead after it
    outcome     BLOB                          -- the stored result once completed
);
CREATE INDEX IF NOT EXISTS once_records_expires_at ON once_records (expires_at);
-- Fencing tokens: strictly growing across every acquisition, even after a record was released or purged.
-- SQLite has no sequences: one row holds the last token handed out, raised in the claim's own transaction
-- (SQLite lets one transaction write at a time, so no two claims can read the same value).
CREATE TABLE IF NOT EXISTS once_records_token_seq (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO once_records_token_seq (id, value) VALUES (1, 0);
