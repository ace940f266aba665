package dev.once.spring.boot.internal;

import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.kafka.support.Acknowledgment;

/**
 * Holds a manual acknowledgment until the database transaction has committed: with {@code
 * AckMode.MANUAL_IMMEDIATE} the container would otherwise commit the offset while the effect could
 * still roll back. A {@code nack} rolls the transaction back, then is passed on. Not public API.
 */
final class DeferredAcknowledgment implements Acknowledgment {

  private final Acknowledgment target;
  private final int @Nullable [] indexMap;
  private boolean acknowledged;
  private @Nullable Duration nackSleep;
  private int nackIndex = -1;

  /**
   * @param indexMap for a batch: the original batch index of each record the listener saw; null for
   *     a record
   */
  DeferredAcknowledgment(Acknowledgment target, int @Nullable [] indexMap) {
    this.target = target;
    this.indexMap = indexMap;
  }

  @Override
  public void acknowledge() {
    acknowledged = true;
  }

  @Override
  public void nack(Duration sleep) {
    nackSleep = sleep;
  }

  @Override
  public void nack(int index, Duration sleep) {
    nackIndex = indexMap == null ? index : indexMap[index];
    nackSleep = sleep;
  }

  @Override
  public boolean isOutOfOrderCommit() {
    return target.isOutOfOrderCommit();
  }

  boolean nacked() {
    return nackSleep != null;
  }

  /** After the commit (or, for a nack, after the rollback): what the listener asked for. */
  void replay() {
    if (nackSleep != null) {
      if (nackIndex >= 0) {
        target.nack(nackIndex, nackSleep);
      } else {
        target.nack(nackSleep);
      }
    } else if (acknowledged) {
      target.acknowledge();
    }
  }
}
