package dev.once.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The offsets table comes from {@code db/once/<dialect>/V1__once_kafka_offsets.sql}, the file users
 * copy into their migrations, renamed as asked; creating it twice is harmless.
 */
class OffsetTableIT {

  static Stream<TestDatabase> databases() {
    return Stream.of(
        TestServers.postgres(),
        new TestDatabase(
            "H2 (embedded, in memory)",
            "jdbc:h2:mem:offsets-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
            "sa",
            ""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void theSchemaFileCreatesTheTableUnderItsGivenName(TestDatabase db) throws Exception {
    String name = "offsets_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    OffsetTable table = new OffsetTable(name);
    try (Connection c = db.connect()) {
      c.setAutoCommit(true);
      table.createSchema(c);
      table.createSchema(c); // IF NOT EXISTS: a second start-up changes nothing
      TopicPartition p0 = new TopicPartition("orders", 0);
      table.advance(c, "payments", Map.of(p0, 42L));
      assertThat(table.read(c, "payments", List.of(p0))).containsEntry(p0, 42L);
      try (Statement s = c.createStatement()) {
        s.execute("DROP TABLE " + name);
      }
    }
  }
}
