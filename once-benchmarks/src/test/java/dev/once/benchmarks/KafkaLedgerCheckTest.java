package dev.once.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.benchmarks.KafkaBench.Kind;
import dev.once.testkit.servers.TestServers;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Kafka benchmark's ledger check on real ledger tables in the local (or embedded) PostgreSQL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaLedgerCheckTest {

  private PostgresTarget pg;

  @BeforeAll
  void open() throws SQLException {
    pg = PostgresTarget.open(TestServers.postgres(), 1);
    for (Kind kind : Kind.values()) {
      pg.execute(
          "CREATE TABLE "
              + kind.table()
              + " (seq bigserial PRIMARY KEY, message_id text NOT NULL,"
              + " kafka_partition int NOT NULL, kafka_offset bigint NOT NULL, payload text NOT NULL)");
    }
  }

  @AfterAll
  void close() throws Exception {
    pg.close();
  }

  private void ledger(Kind kind, String... rows) throws SQLException {
    pg.execute("TRUNCATE TABLE " + kind.table());
    for (String row : rows) {
      String[] f = row.split(":");
      pg.execute(
          "INSERT INTO "
              + kind.table()
              + " (message_id, kafka_partition, kafka_offset, payload) VALUES ('"
              + f[0]
              + "', "
              + f[1]
              + ", "
              + f[2]
              + ", '{}')");
    }
  }

  @Test
  void aLostEffectAndADoubledOneDoNotCancelOut() throws SQLException {
    // m-3 was never applied and m-2 twice: three rows, as three distinct ids would leave.
    ledger(Kind.ONCE, "m-1:0:0", "m-2:0:1", "m-2:1:0");
    assertThatThrownBy(() -> KafkaBench.checkLedger(pg, Kind.ONCE, 3, 4))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("1 message ids with more than one row");

    // No dedupe: the record at partition 0, offset 1 applied twice, the one at offset 2 lost.
    ledger(Kind.PLAIN, "m-1:0:0", "m-2:0:1", "m-2:0:1");
    assertThatThrownBy(() -> KafkaBench.checkLedger(pg, Kind.PLAIN, 3, 3))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("1 records with more than one row");
  }

  @Test
  void aLedgerWithEachIdOnceAndTheExpectedTotalPasses() throws SQLException {
    ledger(Kind.CAMEL, "m-1:0:0", "m-2:0:1", "m-3:1:0");
    assertThat(KafkaBench.checkLedger(pg, Kind.CAMEL, 3, 4)).isEqualTo(3);
    // No dedupe applies a duplicate id again; each record still once.
    ledger(Kind.PLAIN, "m-1:0:0", "m-2:0:1", "m-1:1:0");
    assertThat(KafkaBench.checkLedger(pg, Kind.PLAIN, 3, 3)).isEqualTo(3);
    assertThatThrownBy(() -> KafkaBench.checkLedger(pg, Kind.PLAIN, 4, 4))
        .isInstanceOf(AssertionError.class);
  }
}
