package dev.once.kafka;

import dev.once.internal.InboxDecisions;
import java.time.Duration;

/**
 * The builder's backoff settings, as the Kafka runners read them; the formula is the one every
 * inbox adapter uses ({@link InboxDecisions.Backoff}).
 */
record Backoff(Duration initial, Duration max) {

  Backoff {
    new InboxDecisions.Backoff(initial, max); // validates
  }

  InboxDecisions.Backoff shared() {
    return new InboxDecisions.Backoff(initial, max);
  }
}
