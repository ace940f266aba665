package dev.once.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The stored offsets on a real (in-memory H2) database, with Kafka's mock consumer. */
class StoredOffsetsTest {

  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);
  private static final System.Logger LOG = System.getLogger(StoredOffsetsTest.class.getName());

  private final MockConsumer<String, String> consumer = new MockConsumer<>("earliest");
  private final PausedPartitions paused = new PausedPartitions(consumer);
  private final JdbcDataSource db = new JdbcDataSource();
  private String group;
  private StoredOffsets offsets;

  @BeforeEach
  void setUp() {
    db.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    offsets = new StoredOffsets(consumer, db, new OffsetTable("kafka_offsets"), paused, LOG);
    offsets.createSchema();
    group = consumer.groupMetadata().groupId();
    consumer.assign(List.of(P0, P1));
    consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
  }

  private Map<TopicPartition, Long> stored() throws SQLException {
    try (Connection c = db.getConnection()) {
      return new OffsetTable("kafka_offsets").read(c, group, List.of(P0, P1));
    }
  }

  private void dropTable() throws SQLException {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE kafka_offsets");
    }
  }

  @Test
  void anAssignedPartitionResumesAtItsStoredOffset() throws Exception {
    try (Connection c = db.getConnection()) {
      offsets.advance(c, Map.of(P0, 42L));
    }

    offsets.onPartitionsAssigned(List.of(P0, P1));

    assertThat(consumer.position(P0)).isEqualTo(42);
    assertThat(consumer.position(P1)).as("never stored: Kafka decides").isZero();
    assertThat(consumer.paused()).isEmpty();
  }

  @Test
  void aPartitionWhoseOffsetCannotBeReadStaysPausedUntilItIs() throws Exception {
    dropTable();

    offsets.onPartitionsAssigned(List.of(P0));
    assertThat(consumer.paused()).containsExactly(P0);
    assertThatThrownBy(offsets::positionHeld)
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("they stay paused");
    assertThat(consumer.paused()).containsExactly(P0);

    offsets.createSchema();
    try (Connection c = db.getConnection()) {
      offsets.advance(c, Map.of(P0, 7L));
    }
    offsets.positionHeld();

    assertThat(consumer.position(P0)).isEqualTo(7);
    assertThat(consumer.paused()).isEmpty();
  }

  @Test
  void aRevokedPartitionIsNoLongerHeld() throws Exception {
    dropTable();
    offsets.onPartitionsAssigned(List.of(P0));

    offsets.onPartitionsRevoked(List.of(P0));

    assertThat(paused.heldAndAssigned()).isEmpty();
    offsets.positionHeld(); // nothing to read: the table is not touched
  }

  @Test
  void storedAloneTheOffsetsCommitAndOnlyMoveForward() throws Exception {
    offsets.storeAlone(c -> offsets.advance(c, Map.of(P0, 10L, P1, 3L)));
    offsets.storeAlone(c -> offsets.advance(c, Map.of(P0, 5L)));

    assertThat(stored()).isEqualTo(Map.of(P0, 10L, P1, 3L));
  }

  @Test
  void aFailingStoreRollsBack() throws Exception {
    assertThatThrownBy(
            () ->
                offsets.storeAlone(
                    c -> {
                      offsets.advance(c, Map.of(P0, 10L));
                      throw new SQLException("after the write");
                    }))
        .isInstanceOf(StoreException.class);

    assertThat(stored()).isEmpty();
  }

  @Test
  void withoutATableNothingIsStoredOrRead() throws Exception {
    StoredOffsets none = new StoredOffsets(consumer, db, null, paused, LOG);
    none.createSchema();
    none.storeAlone(
        c -> {
          throw new AssertionError("no transaction without a table");
        });
    try (Connection c = db.getConnection()) {
      none.advance(c, Map.of(P0, 10L));
    }
    none.onPartitionsAssigned(Set.of(P0));

    assertThat(none.enabled()).isFalse();
    assertThat(stored()).isEmpty();
    assertThat(consumer.paused()).isEmpty();
  }
}
