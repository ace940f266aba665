package dev.once.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The publisher refuses producer settings that would let it report a message sent that the broker
 * could lose, duplicate or reorder; it refuses them before any producer exists, so no broker is
 * needed.
 */
class KafkaOutboxPublisherSettingsTest {

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({
    "acks, 1, acks=1",
    "acks, 0, acks=0",
    "enable.idempotence, false, enable.idempotence=false",
    "retries, 0, retries=0",
    "max.in.flight.requests.per.connection, 6, max.in.flight.requests.per.connection=6",
    "transactional.id, relay-1, transactional.id",
    "key.serializer, org.apache.kafka.common.serialization.StringSerializer, key.serializer",
    "value.serializer, org.apache.kafka.common.serialization.StringSerializer, value.serializer"
  })
  void aSettingThatWeakensTheGuaranteeIsRefusedByName(String name, String value, String named) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    config.put(name, value);

    assertThatThrownBy(() -> KafkaOutboxPublisher.builder(config).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("KafkaOutboxPublisher refuses")
        .hasMessageContaining(named);
  }

  @Test
  void everyWeakeningSettingIsNamedInOneError() {
    Map<String, Object> config =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            "127.0.0.1:9",
            ProducerConfig.ACKS_CONFIG,
            1,
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            false);

    assertThatThrownBy(() -> KafkaOutboxPublisher.builder(config).build())
        .hasMessageContaining("acks=1")
        .hasMessageContaining("enable.idempotence=false");
  }

  @Test
  void theSettingsItWouldSetAnywayAreAccepted() {
    Map<String, Object> config =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9",
            ProducerConfig.ACKS_CONFIG, "-1",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "TRUE",
            ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);

    try (KafkaOutboxPublisher publisher =
        KafkaOutboxPublisher.builder(config).timeout(Duration.ofSeconds(1)).build()) {
      assertThat(publisher).isNotNull();
    }
  }

  @Test
  void lingerIsZeroUnlessSetAndTheDeliveryGuaranteeIsAlwaysAdded() {
    Map<String, Object> defaults =
        KafkaOutboxPublisher.builder(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9"))
            .timeout(Duration.ofSeconds(7))
            .producerSettings();
    assertThat(defaults)
        .containsEntry(ProducerConfig.LINGER_MS_CONFIG, 0)
        .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
        .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
        .containsEntry(ProducerConfig.MAX_BLOCK_MS_CONFIG, 7000L);

    Map<String, Object> own =
        KafkaOutboxPublisher.builder(
                Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:9",
                    ProducerConfig.LINGER_MS_CONFIG,
                    20))
            .producerSettings();
    assertThat(own).containsEntry(ProducerConfig.LINGER_MS_CONFIG, 20);
  }

  @Test
  void aTimeoutMustBePositive() {
    assertThatThrownBy(() -> KafkaOutboxPublisher.builder(Map.of()).timeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout must be positive");
  }
}
