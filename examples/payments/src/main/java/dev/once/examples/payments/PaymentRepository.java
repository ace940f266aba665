package dev.once.examples.payments;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Payments and refunds in SQL that runs on SQLite, PostgreSQL and H2 alike (schema.sql). Times are
 * epoch milliseconds: SQLite has no timestamp type.
 */
@Repository
class PaymentRepository {

  private static final String SELECT =
      """
      SELECT p.id, p.owner, p.customer_id, p.amount_cents, p.currency, p.status, p.created_at_ms,
             COALESCE((SELECT SUM(r.amount_cents) FROM refunds r WHERE r.payment_id = p.id), 0) AS refunded_cents
      FROM payments p""";

  private final JdbcClient jdbc;

  PaymentRepository(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  void insert(String id, String owner, ChargeRequest request, String status, Instant createdAt) {
    jdbc.sql(
            """
            INSERT INTO payments (id, owner, customer_id, amount_cents, currency, status, created_at_ms)
            VALUES (:id, :owner, :customer, :amount, :currency, :status, :createdAt)""")
        .param("id", id)
        .param("owner", owner)
        .param("customer", request.customerId())
        .param("amount", request.amountCents())
        .param("currency", request.currency())
        .param("status", status)
        .param("createdAt", createdAt.toEpochMilli())
        .update();
  }

  void settle(String id, String status, String processorReference) {
    jdbc.sql(
            "UPDATE payments SET status = :status, processor_reference = :reference WHERE id = :id")
        .param("status", status)
        .param("reference", processorReference)
        .param("id", id)
        .update();
  }

  Optional<Payment> find(String owner, String id) {
    // By the primary key alone, the owner checked on the row it finds: for "owner = ? AND id = ?"
    // PostgreSQL may cache a generic plan made while the table was empty that walks payments_owner,
    // every one of the owner's payments, on each lookup.
    return jdbc
        .sql(SELECT + " WHERE p.id = :id")
        .param("id", id)
        .query((rs, row) -> owner.equals(rs.getString("owner")) ? payment(rs, row) : null)
        .list()
        .stream()
        .filter(Objects::nonNull)
        .findFirst();
  }

  /**
   * Locks the payment row until the transaction ends, so concurrent refunds of one payment queue
   * up. An update that changes nothing, not {@code SELECT ... FOR UPDATE}, which SQLite lacks: it
   * takes the row's lock on PostgreSQL and H2, and on SQLite the database's write lock (which an
   * IMMEDIATE transaction holds from its start anyway).
   */
  Optional<Payment> lock(String owner, String id) {
    int locked =
        jdbc.sql("UPDATE payments SET status = status WHERE owner = :owner AND id = :id")
            .param("owner", owner)
            .param("id", id)
            .update();
    return locked == 0 ? Optional.empty() : find(owner, id);
  }

  List<Payment> findAll(String owner) {
    return jdbc.sql(SELECT + " WHERE p.owner = :owner ORDER BY p.created_at_ms, p.id")
        .param("owner", owner)
        .query(PaymentRepository::payment)
        .list();
  }

  void insertRefund(String id, String paymentId, long amountCents, Instant createdAt) {
    jdbc.sql(
            """
            INSERT INTO refunds (id, payment_id, amount_cents, created_at_ms)
            VALUES (:id, :payment, :amount, :createdAt)""")
        .param("id", id)
        .param("payment", paymentId)
        .param("amount", amountCents)
        .param("createdAt", createdAt.toEpochMilli())
        .update();
  }

  private static Payment payment(ResultSet rs, int row) throws SQLException {
    return new Payment(
        rs.getString("id"),
        rs.getString("customer_id"),
        rs.getLong("amount_cents"),
        rs.getString("currency"),
        rs.getString("status"),
        rs.getLong("refunded_cents"),
        Instant.ofEpochMilli(rs.getLong("created_at_ms")));
  }
}
