-- Once outbox for SQLite 3.42+. Copy into your migrations (Flyway, Liquibase) or let Outbox.createSchema
-- create it. Rename the table if you like; tell the Outbox and the OutboxRelay.
CREATE TABLE IF NOT EXISTS once_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order messages were written in; never reused
    id              BLOB    NOT NULL,                   -- UUIDv7, 16 bytes; publishers send it as the message id
    destination     TEXT    NOT NULL,                   -- topic or exchange
    msg_key         TEXT,                               -- ordering key; NULL: no order with other messages
    payload         BLOB    NOT NULL,
    headers         BLOB,                               -- encoded as docs/outbox.md says; NULL: no headers
    created_at      INTEGER NOT NULL,                   -- epoch ms, by the writer's clock
    state           TEXT    NOT NULL DEFAULT 'P',       -- 'P' pending, 'S' sent, 'X' parked
    attempts        INTEGER NOT NULL DEFAULT 0,         -- publications the broker refused
    next_attempt_at INTEGER NOT NULL DEFAULT 0,         -- epoch ms, by the relay's clock; not claimed before
    sent_at         INTEGER,                            -- epoch ms when the broker acknowledged it
    last_error      TEXT                                -- why the broker last refused it
);
-- Only pending rows are indexed: the relay's claim reads them in order and by key; sent rows leave both indexes.
CREATE INDEX IF NOT EXISTS once_outbox_pending ON once_outbox (seq) WHERE state = 'P';
CREATE INDEX IF NOT EXISTS once_outbox_pending_key ON once_outbox (msg_key, seq) WHERE state = 'P';
-- Parked rows, for counting them (OutboxRelay.backlog); a row enters it only when it is parked.
CREATE INDEX IF NOT EXISTS once_outbox_parked ON once_outbox (seq) WHERE state = 'X';
