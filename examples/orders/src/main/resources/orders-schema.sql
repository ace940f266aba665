-- The orders side's own table; the starter creates once_outbox (once.outbox.create-schema=always).
CREATE TABLE IF NOT EXISTS orders (
  id            VARCHAR(40)  PRIMARY KEY,
  customer      VARCHAR(100) NOT NULL,
  amount_cents  BIGINT       NOT NULL,
  event_id      VARCHAR(36)  NOT NULL,
  created_at_ms BIGINT       NOT NULL
);
