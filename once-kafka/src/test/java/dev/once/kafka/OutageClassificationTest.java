package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.Scope;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

/**
 * Which failures {@link KafkaInboxConsumer#run()} waits out as a database outage, and which are the
 * record's.
 */
class OutageClassificationTest {

  @Test
  void aLostConnectionIsAnOutageWhateverWrapsIt() {
    assertThat(KafkaInboxConsumer.isConnectionFailure(new SQLException("I/O error", "08006")))
        .isTrue();
    assertThat(
            KafkaInboxConsumer.isConnectionFailure(
                new SQLException("terminating connection", "57P01")))
        .isTrue();
    assertThat(
            KafkaInboxConsumer.isConnectionFailure(
                new RuntimeException(new SQLTransientConnectionException("pool"))))
        .isTrue();
    assertThat(
            KafkaInboxConsumer.isDatabaseFailure(
                new StoreUnavailableException("down", "jdbc", Scope.global("k"), null)))
        .isTrue();
    assertThat(
            KafkaInboxConsumer.isDatabaseFailure(
                new IllegalStateException(new SQLException("offsets", "42P01"))))
        .isTrue();
    assertThat(
            KafkaInboxConsumer.isDatabaseFailure(
                new StoreException("x", "jdbc", Scope.global("k"), null)))
        .isTrue();
  }

  @Test
  void aHandlersOwnFailureIsTheRecordsEvenIfItIsAnSqlError() {
    assertThat(KafkaInboxConsumer.isConnectionFailure(new SQLException("duplicate key", "23505")))
        .isFalse();
    assertThat(KafkaInboxConsumer.isConnectionFailure(new IllegalArgumentException("bad payload")))
        .isFalse();
    assertThat(
            KafkaInboxConsumer.isDatabaseFailure(
                new IllegalStateException("could not dead-letter")))
        .isFalse();
  }
}
