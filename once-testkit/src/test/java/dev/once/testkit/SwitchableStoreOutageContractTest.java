package dev.once.testkit;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Completion;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.StoreAdmin;
import dev.once.StoreUnavailableException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs the outage suite against an in-memory store behind a switch, which stands in for a cut TCP
 * connection: this checks the suite itself, not a real store.
 */
class SwitchableStoreOutageContractTest extends StoreOutageContract {

  private final SwitchableStore store = new SwitchableStore(IdempotencyStore.inMemory());

  @Override
  protected IdempotencyStore store() {
    return store;
  }

  @Override
  protected void cutConnection() {
    store.reachable.set(false);
  }

  @Override
  protected void restoreConnection() {
    store.reachable.set(true);
  }

  /**
   * Fails every call with {@link StoreUnavailableException} while unreachable; while losing
   * replies, a completion is applied and then fails the same way, as if its answer had been lost.
   */
  static final class SwitchableStore implements IdempotencyStore {
    final AtomicBoolean reachable = new AtomicBoolean(true);
    final AtomicBoolean losingReplies = new AtomicBoolean();
    final IdempotencyStore delegate;

    SwitchableStore(IdempotencyStore delegate) {
      this.delegate = delegate;
    }

    private void check() {
      if (!reachable.get()) {
        throw new StoreUnavailableException("connection refused", name(), null, null);
      }
    }

    @Override
    public ClaimResult claim(ClaimRequest request) {
      check();
      return delegate.claim(request);
    }

    @Override
    public List<ClaimResult> claimAll(List<ClaimRequest> requests) {
      check();
      return delegate.claimAll(requests);
    }

    @Override
    public void complete(IdempotencyKey key, long token, Outcome outcome, Duration retention) {
      check();
      delegate.complete(key, token, outcome, retention);
      checkReply();
    }

    @Override
    public void completeAll(List<Completion> completions) {
      check();
      delegate.completeAll(completions);
      checkReply();
    }

    private void checkReply() {
      if (losingReplies.get()) {
        throw new StoreUnavailableException(
            "connection reset before the answer arrived", name(), null, null);
      }
    }

    @Override
    public void release(IdempotencyKey key, long token) {
      check();
      delegate.release(key, token);
    }

    @Override
    public void renew(IdempotencyKey key, long token, Duration lease) {
      check();
      delegate.renew(key, token, lease);
    }

    @Override
    public int purgeExpired(int limit) {
      check();
      return delegate.purgeExpired(limit);
    }

    @Override
    public StoreAdmin admin() {
      StoreAdmin admin = delegate.admin();
      return new StoreAdmin() {
        @Override
        public void check() {
          SwitchableStore.this.check();
          admin.check();
        }

        @Override
        public Optional<RecordInfo> inspect(IdempotencyKey key) {
          SwitchableStore.this.check();
          return admin.inspect(key);
        }

        @Override
        public boolean forceRelease(IdempotencyKey key) {
          SwitchableStore.this.check();
          return admin.forceRelease(key);
        }

        @Override
        public RecordCounts count() {
          SwitchableStore.this.check();
          return admin.count();
        }
      };
    }

    @Override
    public String name() {
      return "switchable";
    }
  }
}
