package dev.once.examples.orders;

import dev.once.spring.boot.TransactionalOutbox;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Profile;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import tools.jackson.databind.json.JsonMapper;

/** Saves an order and its event in one transaction: both commit, or neither. */
@Service
@Profile("orders")
public class OrderService {

  private final JdbcClient jdbc;
  private final TransactionalOutbox outbox;
  private final JsonMapper json;
  private final String destination;

  OrderService(
      JdbcClient jdbc,
      TransactionalOutbox outbox,
      JsonMapper json,
      @Value("${orders.destination}") String destination) {
    this.jdbc = jdbc;
    this.outbox = outbox;
    this.json = json;
    this.destination = destination;
  }

  /**
   * Places the order.
   *
   * @param request who pays and how much
   * @return the order and its event's id
   * @throws IllegalArgumentException if the request is invalid (nothing is written)
   */
  @Transactional
  public Order place(PlaceOrder request) {
    if (request.customer() == null || request.customer().isBlank()) {
      throw new IllegalArgumentException("customer must not be blank");
    }
    if (request.amountCents() <= 0) {
      throw new IllegalArgumentException(
          "amountCents must be positive, but was " + request.amountCents());
    }
    String id = "ord_" + UUID.randomUUID().toString().replace("-", "");
    byte[] event =
        json.writeValueAsBytes(new OrderPlaced(id, request.customer(), request.amountCents()));
    // Keyed by customer: one customer's events reach the payments service in the order placed.
    UUID eventId =
        outbox.enqueue(destination, request.customer(), event, Map.of("type", "OrderPlaced"));
    jdbc.sql(
            "INSERT INTO orders (id, customer, amount_cents, event_id, created_at_ms)"
                + " VALUES (?, ?, ?, ?, ?)")
        .params(
            id,
            request.customer(),
            request.amountCents(),
            eventId.toString(),
            System.currentTimeMillis())
        .update();
    return new Order(id, request.customer(), request.amountCents(), eventId);
  }

  /** {@return every order, oldest first} */
  @Transactional(readOnly = true)
  public List<Order> all() {
    return jdbc.sql(
            "SELECT id, customer, amount_cents, event_id FROM orders ORDER BY created_at_ms, id")
        .query(
            (rs, n) ->
                new Order(
                    rs.getString(1),
                    rs.getString(2),
                    rs.getLong(3),
                    UUID.fromString(rs.getString(4))))
        .list();
  }
}
