package dev.once.drill.internal;

import dev.once.drill.Attempt;
import java.util.Arrays;

/** An attempt with the body it received, which the checks compare and the report leaves out. */
public record Answer(Attempt attempt, byte[] body) {

  /** {@return whether this answer has the status and the body of {@code other}} */
  public boolean sameAs(Answer other) {
    return attempt.status() == other.attempt.status() && Arrays.equals(body, other.body);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Answer a && a.attempt.equals(attempt) && Arrays.equals(a.body, body);
  }

  @Override
  public int hashCode() {
    return 31 * attempt.hashCode() + Arrays.hashCode(body);
  }

  @Override
  public String toString() {
    return attempt.toString();
  }
}
