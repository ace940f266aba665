package dev.once.sqs.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

class QueueSettingsTest {

  private static final String URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders";
  private static final String DLQ = "arn:aws:sqs:eu-west-1:123456789012:orders-dlq";

  @Test
  void readsTheRedrivePolicyAsSqsAnswersIt() {
    QueueSettings settings =
        QueueSettings.of(
            URL,
            Map.of(
                QueueAttributeName.VISIBILITY_TIMEOUT,
                "45",
                QueueAttributeName.REDRIVE_POLICY,
                "{\"deadLetterTargetArn\":\"" + DLQ + "\",\"maxReceiveCount\":5}"));
    assertThat(settings).isEqualTo(new QueueSettings(45, 5, DLQ));
  }

  @Test
  void readsAMaxReceiveCountWrittenAsAString() {
    QueueSettings settings =
        QueueSettings.of(
            URL,
            Map.of(
                QueueAttributeName.VISIBILITY_TIMEOUT,
                "30",
                QueueAttributeName.REDRIVE_POLICY,
                "{\"maxReceiveCount\":\"3\",\"deadLetterTargetArn\":\"" + DLQ + "\"}"));
    assertThat(settings.maxReceiveCount()).isEqualTo(3);
  }

  @Test
  void aQueueWithoutARedrivePolicyHasNoReceiveLimit() {
    QueueSettings settings =
        QueueSettings.of(URL, Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "30"));
    assertThat(settings).isEqualTo(new QueueSettings(30, null, null));
  }

  @Test
  void anUnreadableRedrivePolicyIsAClearError() {
    assertThatThrownBy(
            () ->
                QueueSettings.of(
                    URL,
                    Map.of(
                        QueueAttributeName.VISIBILITY_TIMEOUT, "30",
                        QueueAttributeName.REDRIVE_POLICY, "{\"maxReceiveCount\":\"many\"}")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "the RedrivePolicy of " + URL + " cannot be read: {\"maxReceiveCount\":\"many\"}");
  }

  @Test
  void wholeSecondsRoundUpAndStopAtTwelveHours() {
    assertThat(Settlements.ceilSeconds(0)).isZero();
    assertThat(Settlements.ceilSeconds(1)).isEqualTo(1);
    assertThat(Settlements.ceilSeconds(1_000_000_000L)).isEqualTo(1);
    assertThat(Settlements.ceilSeconds(1_000_000_001L)).isEqualTo(2);
    assertThat(Settlements.ceilSeconds(Long.MAX_VALUE)).isEqualTo(43_200);
  }
}
