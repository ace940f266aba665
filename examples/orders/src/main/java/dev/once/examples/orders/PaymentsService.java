package dev.once.examples.orders;

import java.util.List;
import org.springframework.context.annotation.Profile;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

/**
 * Charges an order. Called by the listeners inside the transaction Once's listener factory opened
 * for the message: the charge commits with the message's dedupe marker, so a redelivered or
 * republished event finds the marker and is skipped before it gets here.
 */
@Service
@Profile("payments")
public class PaymentsService {

  private final JdbcClient jdbc;

  PaymentsService(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /**
   * Charges the order the event names.
   *
   * @param event the event
   * @param messageId its message id
   */
  public void charge(OrderPlaced event, String messageId) {
    // A real service would call its card processor here with the order id as the processor's
    // idempotency key; the example records the charge.
    jdbc.sql(
            "INSERT INTO charges (order_id, customer, amount_cents, message_id, charged_at_ms)"
                + " VALUES (?, ?, ?, ?, ?)")
        .params(
            event.orderId(),
            event.customer(),
            event.amountCents(),
            messageId,
            System.currentTimeMillis())
        .update();
  }

  /** {@return every charge, oldest first} */
  public List<Charge> all() {
    return jdbc.sql(
            "SELECT order_id, customer, amount_cents, message_id FROM charges"
                + " ORDER BY charged_at_ms, order_id")
        .query(
            (rs, n) -> new Charge(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4)))
        .list();
  }
}
