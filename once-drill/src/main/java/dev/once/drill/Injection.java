package dev.once.drill;

/** What the drill does to a chosen fraction of the requests, the way networks and clients do. */
public enum Injection {
  /** The exact request again with its key, after the first answer arrived: expects a replay. */
  DUPLICATE,
  /**
   * The request sent N times at once with one key: expects one execution, the rest 409 or replays.
   */
  CONCURRENT,
  /**
   * The client closes the connection after the status line, before the body, then retries with the
   * key: expects a replay of the answer it did not read.
   */
  ABORTED,
  /** The key sent again with a changed body: expects the mismatch answer (422). */
  MISMATCH,
  /** Retries of the request spread over a window after its answer: expects replays. */
  SLOW_RETRY,
  /** First tries of distinct keys all at once: expects none to wait for another (no 409). */
  BURST
}
