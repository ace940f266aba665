package dev.once;

import java.util.List;

/**
 * Decides what a failed execution leaves behind. {@link Decision#RELEASE} deletes the claim so a
 * retry executes again (right when the failure rolled back every effect); {@link Decision#STORE}
 * keeps the failure as the key's final outcome, so every retry gets {@link
 * ReplayedFailureException} instead of a second try (right for business rejections such as "card
 * declined").
 *
 * <pre>{@code
 * FailurePolicy policy = FailurePolicy.storeWhen(CardDeclinedException.class);
 * }</pre>
 */
@FunctionalInterface
public interface FailurePolicy {

  /** What becomes of a key whose action threw. */
  enum Decision {
    /** Delete the claim, so that a retry executes again. */
    RELEASE,
    /**
     * Store the failure as the key's outcome; every retry gets a {@link ReplayedFailureException}.
     */
    STORE
  }

  /**
   * Decides for the exception the action threw (never {@code null}).
   *
   * @param failure what the action threw
   * @return release or store
   */
  Decision decide(Throwable failure);

  /**
   * The default: every exception releases the key.
   *
   * @return a policy that always answers {@link Decision#RELEASE}
   */
  static FailurePolicy releaseAll() {
    return failure -> Decision.RELEASE;
  }

  /**
   * Stores failures of the given types (and their subclasses); releases every other.
   *
   * @param finalTypes the failures that are a final answer for the key, such as a declined card;
   *     none may be {@code null}
   * @return the policy
   */
  @SafeVarargs
  static FailurePolicy storeWhen(Class<? extends Throwable>... finalTypes) {
    List<Class<? extends Throwable>> types = List.of(finalTypes);
    return failure ->
        types.stream().anyMatch(t -> t.isInstance(failure)) ? Decision.STORE : Decision.RELEASE;
  }
}
