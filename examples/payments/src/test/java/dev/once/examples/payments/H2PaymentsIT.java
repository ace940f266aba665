package dev.once.examples.payments;

import java.util.UUID;

/** The payments API on H2 in memory, the JDBC store in atomic mode. */
class H2PaymentsIT extends JdbcPaymentsApiContract {

  @Override
  PaymentsApp start(ScriptedProcessor processor) {
    return PaymentsApp.start(processor, PaymentsApp.h2("payments-" + UUID.randomUUID()));
  }
}
