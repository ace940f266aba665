package dev.once.examples.payments;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.examples.payments.PaymentsApp.Reply;
import dev.once.spring.boot.TransactionalExchangeBoundary;
import org.junit.jupiter.api.Test;

/**
 * The API contract plus atomic mode, the default with a JDBC store: the key record, the payment and
 * the stored response commit in one transaction, so a failure anywhere before the commit leaves
 * neither.
 */
abstract class JdbcPaymentsApiContract extends PaymentsApiContract {

  @Override
  long storedRecords() {
    return app.jdbc().queryForObject("SELECT COUNT(*) FROM once_records", Long.class);
  }

  long paymentRows(String customer) {
    return app.jdbc()
        .queryForObject(
            "SELECT COUNT(*) FROM payments WHERE customer_id = ?", Long.class, customer);
  }

  @Test
  void atomicModeIsOnByDefaultWithTheJdbcStore() {
    assertThat(app.context.getBeansOfType(TransactionalExchangeBoundary.class)).hasSize(1);
  }

  @Test
  void aFailureAfterThePaymentInsertLeavesNeitherPaymentNorRecordAndTheRetryChargesOnce() {
    String key = key();
    String customer = customer();
    long records = storedRecords();
    processor.failNext(
        customer, 1); // the processor fails after the service inserted the pending payment

    Reply failed = app.post(ALICE, "/payments", key, charge(customer, 1250));

    assertThat(failed.status()).isEqualTo(500);
    assertThat(paymentRows(customer)).isZero();
    assertThat(storedRecords()).isEqualTo(records);

    Reply retry = app.post(ALICE, "/payments", key, charge(customer, 1250));
    Reply replay = app.post(ALICE, "/payments", key, charge(customer, 1250));
    assertThat(retry.status()).isEqualTo(201);
    assertThat(retry.replayed()).isFalse();
    assertThat(replay.replayed()).isTrue();
    assertThat(paymentRows(customer)).isEqualTo(1);
    assertThat(storedRecords()).isEqualTo(records + 1);
  }

  @Test
  void aFailureAfterTheHandlerCommittedItsWorkRollsBackPaymentAndRecordTogether() {
    String key = key();
    String customer = customer();
    long records = storedRecords();

    // The service returned (its @Transactional work joined the exchange's transaction) and the 201
    // is written,
    // then something fails before the key is completed.
    Reply failed =
        app.post(
            ALICE, "/payments", key, charge(customer, 1250), FailAfterHandlerFilter.HEADER, "1");

    assertThat(failed.status()).isEqualTo(500);
    assertThat(processor.calls(customer)).isEqualTo(1);
    assertThat(paymentRows(customer)).as("the payment rolled back with the record").isZero();
    assertThat(storedRecords()).isEqualTo(records);

    Reply retry = app.post(ALICE, "/payments", key, charge(customer, 1250));
    assertThat(retry.status()).isEqualTo(201);
    assertThat(retry.replayed()).isFalse();
    assertThat(paymentRows(customer)).isEqualTo(1);
    assertThat(storedRecords()).isEqualTo(records + 1);
  }
}
