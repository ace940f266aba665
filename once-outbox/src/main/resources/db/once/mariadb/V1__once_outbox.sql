-- Once outbox for MariaDB 10.6+ (the relay needs SKIP LOCKED). Copy into your migrations (Flyway, Liquibase) or
-- let Outbox.createSchema create it. Rename the table if you like; tell the Outbox and the OutboxRelay.
-- MariaDB has no partial indexes: state leads (or follows the key in) both, so pending rows sit together.
CREATE TABLE IF NOT EXISTS once_outbox (
    seq             BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY, -- the order messages were written in
    id              BINARY(16)    NOT NULL,             -- UUIDv7; publishers send it as the message id
    destination     VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL, -- topic or exchange
    msg_key         VARCHAR(255) CHARACTER SET utf8mb4 NULL,     -- ordering key; NULL: no order with others
    payload         LONGBLOB      NOT NULL,
    headers         BLOB          NULL,                 -- encoded as docs/outbox.md says; NULL: no headers
    created_at      BIGINT        NOT NULL,             -- epoch ms, by the writer's clock
    state           CHAR(1)       NOT NULL DEFAULT 'P', -- 'P' pending, 'S' sent, 'X' parked
    attempts        INT           NOT NULL DEFAULT 0,   -- publications the broker refused
    next_attempt_at BIGINT        NOT NULL DEFAULT 0,   -- epoch ms, by the relay's clock; not claimed before
    sent_at         BIGINT        NULL,                 -- epoch ms when the broker acknowledged it
    last_error      VARCHAR(1000) CHARACTER SET utf8mb4 NULL, -- why the broker last refused it
    INDEX once_outbox_pending (state, seq),
    INDEX once_outbox_pending_key (msg_key, state, seq)
) ENGINE = InnoDB;
