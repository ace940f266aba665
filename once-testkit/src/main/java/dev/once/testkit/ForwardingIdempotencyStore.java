package dev.once.testkit;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Completion;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.StoreAdmin;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A store that forwards every call, batch calls included, to a real one; a test's subclass
 * intercepts what it counts, holds or breaks.
 */
public class ForwardingIdempotencyStore implements IdempotencyStore {

  /** The store every call goes to. */
  protected final IdempotencyStore delegate;

  /**
   * @param delegate the store every call goes to
   */
  public ForwardingIdempotencyStore(IdempotencyStore delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public ClaimResult claim(ClaimRequest request) {
    return delegate.claim(request);
  }

  @Override
  public List<ClaimResult> claimAll(List<ClaimRequest> requests) {
    return delegate.claimAll(requests);
  }

  @Override
  public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
    delegate.complete(key, token, outcome, retention);
  }

  @Override
  public void completeAll(List<Completion> completions) {
    delegate.completeAll(completions);
  }

  @Override
  public void release(IdempotencyKey key, long token) {
    delegate.release(key, token);
  }

  @Override
  public void renew(IdempotencyKey key, long token, Duration lease) {
    delegate.renew(key, token, lease);
  }

  @Override
  public int purgeExpired(int limit) {
    return delegate.purgeExpired(limit);
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public boolean joinsCallerTransaction() {
    return delegate.joinsCallerTransaction();
  }

  @Override
  public StoreAdmin admin() {
    return delegate.admin();
  }
}
