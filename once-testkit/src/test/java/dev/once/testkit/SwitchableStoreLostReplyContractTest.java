package dev.once.testkit;

import dev.once.IdempotencyStore;
import dev.once.testkit.SwitchableStoreOutageContractTest.SwitchableStore;

/**
 * Runs the lost-reply suite against an in-memory store behind a switch that applies a completion
 * and then reports the connection lost: this checks the suite itself, not a real store.
 */
class SwitchableStoreLostReplyContractTest extends LostReplyContract {

  private final SwitchableStore store = new SwitchableStore(IdempotencyStore.inMemory());

  @Override
  protected IdempotencyStore store() {
    return store;
  }

  @Override
  protected IdempotencyStore directStore() {
    return store.delegate;
  }

  @Override
  protected void loseReplies() {
    store.losingReplies.set(true);
  }

  @Override
  protected void cutConnection() {
    store.reachable.set(false);
  }

  @Override
  protected void restoreConnection() {
    store.reachable.set(true);
    store.losingReplies.set(false);
  }
}
