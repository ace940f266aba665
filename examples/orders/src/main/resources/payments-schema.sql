-- The payments side's charges. Deliberately no unique constraint on order_id: what keeps an order from being
-- charged twice is Once's inbox (once_records, created by the starter), and the example's test counts the rows.
CREATE TABLE IF NOT EXISTS charges (
  order_id      VARCHAR(40)  NOT NULL,
  customer      VARCHAR(100) NOT NULL,
  amount_cents  BIGINT       NOT NULL,
  message_id    VARCHAR(64)  NOT NULL,
  charged_at_ms BIGINT       NOT NULL
);
