-- Once idempotency records for MariaDB 10.3+ and MySQL 8. Copy into your migrations (Flyway, Liquibase)
-- or let JdbcIdempotencyStore create it (createSchema(true)). Rename the table if you like; tell the store.
CREATE TABLE IF NOT EXISTS once_records (
    id          BINARY(32) NOT NULL PRIMARY KEY, -- SHA-256 of (tenant, operation, key); the raw key is never stored
    status      CHAR(1)    NOT NULL,             -- 'P' in progress, 'C' completed
    fingerprint BINARY(32) NOT NULL,             -- SHA-256 of the request the key was first used with
    token       BIGINT     NOT NULL,             -- fencing token from once_records_token_seq
    nonce       BIGINT     NOT NULL,             -- random per acquisition; tells a claimer whether it won (odd: by taking over an expired lease)
    lease_until BIGINT     NOT NULL,             -- epoch ms by the database clock
    expires_at  BIGINT     NOT NULL,             -- epoch ms by the database clock; the record is dead after it
    outcome     LONGBLOB   NULL,                 -- the stored result once completed
    INDEX once_records_expires_at (expires_at)
) ENGINE = InnoDB;
-- Fencing tokens: strictly growing across every acquisition, even after a record was released or purged.
CREATE SEQUENCE IF NOT EXISTS once_records_token_seq;
