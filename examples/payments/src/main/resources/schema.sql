-- Runs on SQLite, PostgreSQL and H2 alike (spring.sql.init.mode=always). The idempotency records live in the
-- table once_records, which the starter creates (once.jdbc.create-schema=always). Times are epoch milliseconds
-- (UTC): SQLite has no timestamp type.
CREATE TABLE IF NOT EXISTS payments (
  id                  VARCHAR(40)  PRIMARY KEY,
  owner               VARCHAR(100) NOT NULL,
  customer_id         VARCHAR(100) NOT NULL,
  amount_cents        BIGINT       NOT NULL,
  currency            CHAR(3)      NOT NULL,
  status              VARCHAR(16)  NOT NULL,
  processor_reference VARCHAR(64),
  created_at_ms       BIGINT       NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_owner ON payments (owner, created_at_ms);

CREATE TABLE IF NOT EXISTS refunds (
  id            VARCHAR(40) PRIMARY KEY,
  payment_id    VARCHAR(40) NOT NULL REFERENCES payments (id),
  amount_cents  BIGINT      NOT NULL,
  created_at_ms BIGINT      NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_payment ON refunds (payment_id);
