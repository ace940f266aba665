package dev.once.examples.payments;

import org.junit.jupiter.api.AfterAll;

/** The payments API on PostgreSQL, the JDBC store in atomic mode. */
class PostgresPaymentsIT extends JdbcPaymentsApiContract {

  private PostgresSchema schema;

  @Override
  PaymentsApp start(ScriptedProcessor processor) {
    schema = new PostgresSchema();
    return PaymentsApp.start(processor, schema.properties());
  }

  @AfterAll
  void dropSchema() {
    stopApplication();
    if (schema != null) {
      schema.close();
    }
  }
}
