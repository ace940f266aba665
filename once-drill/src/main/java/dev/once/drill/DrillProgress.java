package dev.once.drill;

/** Told as the drill's requests are answered; called from several threads. */
@FunctionalInterface
public interface DrillProgress {

  /** Tells nothing. */
  DrillProgress NONE = (done, planned) -> {};

  /**
   * Reports progress.
   *
   * @param done how many requests were answered so far
   * @param planned how many the drill plans to send (a retry of a 409 can add to it)
   */
  void update(int done, int planned);
}
