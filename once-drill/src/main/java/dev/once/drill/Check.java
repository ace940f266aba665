package dev.once.drill;

/**
 * One line of the verdict.
 *
 * @param id a stable name, such as {@code replays-identical}
 * @param title what it checks, for people
 * @param status its result
 * @param passed how many samples passed
 * @param failed how many failed
 * @param detail the figures or the first failures
 */
public record Check(String id, String title, Status status, int passed, int failed, String detail) {

  /** A check's result. */
  public enum Status {
    /** Every sample passed. */
    PASS,
    /** At least one sample failed: the drill fails. */
    FAIL,
    /** Nothing to check (the injection was not chosen, or no oracle was given). */
    SKIPPED,
    /** Figures only, no threshold (replay latency without one). */
    INFO
  }
}
