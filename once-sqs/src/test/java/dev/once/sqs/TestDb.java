package dev.once.sqs;

import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.testkit.EffectTables;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/** The test kit's effect tables plus this module's inbox table {@code <prefix>_once}. */
final class TestDb extends EffectTables {

  TestDb() throws SQLException {
    super("once_sqs_");
    store().createSchema();
  }

  String onceTable() {
    return prefix + "_once";
  }

  JdbcIdempotencyStore store() {
    return store(pool);
  }

  JdbcIdempotencyStore store(DataSource ds) {
    return JdbcIdempotencyStore.builder(ds)
        .table(onceTable())
        .concurrentClaims(ConcurrentClaimPolicy.WAIT)
        .build();
  }

  @Override
  protected void dropAlso(Statement s) throws SQLException {
    s.execute("DROP TABLE IF EXISTS " + onceTable());
    s.execute("DROP SEQUENCE IF EXISTS " + onceTable() + "_token_seq");
  }
}
