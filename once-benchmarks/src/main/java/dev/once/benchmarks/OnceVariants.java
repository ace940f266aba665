package dev.once.benchmarks;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Execution;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Once;
import dev.once.Outcome;
import dev.once.ResultCodec;
import dev.once.jdbc.JdbcIdempotencyStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * Once on any store, the way a consumer uses it. Every store gets the same variants, so a new store
 * needs only its {@link Target}.
 */
final class OnceVariants {

  static final Duration LEASE = Duration.ofMinutes(5);
  static final Duration RETENTION = Duration.ofHours(1);
  static final Fingerprint FINGERPRINT = Fingerprint.of("message body");
  private static final Outcome DONE = Outcome.empty();
  private static final ResultCodec<String> CODEC = ResultCodec.utf8();
  private static final Once.Action<String> ACTION = () -> "done";

  private OnceVariants() {}

  private static List<ClaimRequest> requests(List<IdempotencyKey> keys) {
    List<ClaimRequest> out = new ArrayList<>(keys.size());
    for (IdempotencyKey k : keys) {
      out.add(new ClaimRequest(k, FINGERPRINT, LEASE, RETENTION));
    }
    return out;
  }

  private static void countClaims(List<ClaimResult> results, Answers answers) {
    for (ClaimResult r : results) {
      if (r instanceof ClaimResult.Acquired) {
        answers.fresh++;
      } else if (r instanceof ClaimResult.InProgress) {
        answers.duplicate++; // the seed claimed it and never completed it
      } else {
        answers.other(r);
      }
    }
  }

  /**
   * The claim alone, on the store's own connections ({@code claim} for one key, {@code claimAll}
   * for a batch): the same decision the ceiling's raw insert makes. A duplicate is a key claimed
   * earlier and not completed, so its answer is {@code InProgress}.
   */
  static Variant claim(Supplier<IdempotencyStore> stores, Reset reset) {
    return new Variant() {
      private volatile IdempotencyStore store = stores.get();

      @Override
      public void reset() throws Exception {
        reset.run();
        store = stores.get();
      }

      @Override
      public void process(List<IdempotencyKey> keys, Answers answers) {
        List<ClaimRequest> requests = requests(keys);
        countClaims(
            requests.size() == 1 ? List.of(store.claim(requests.get(0))) : store.claimAll(requests),
            answers);
      }
    };
  }

  /**
   * The whole cycle on a store without transactions (in memory, Redis): one key through {@link
   * Once#execute}; a batch through {@code claimAll}, then {@code complete} for each key acquired. A
   * duplicate is a completed key, so its answer is a replay ({@code Completed}).
   */
  static Variant cycle(Supplier<IdempotencyStore> stores, Reset reset) {
    return new Variant() {
      private volatile IdempotencyStore store = stores.get();
      private volatile Once once = Once.builder(store).lease(LEASE).retention(RETENTION).build();

      @Override
      public void reset() throws Exception {
        reset.run();
        store = stores.get();
        once = Once.builder(store).lease(LEASE).retention(RETENTION).build();
      }

      @Override
      public void process(List<IdempotencyKey> keys, Answers answers) {
        if (keys.size() == 1) {
          countExecution(once.execute(keys.get(0), FINGERPRINT, CODEC, ACTION), answers);
        } else {
          claimAndComplete(store, keys, answers);
        }
      }
    };
  }

  /**
   * The whole cycle inside one transaction per call, as a transactional consumer runs it: claim,
   * run, complete, commit; the record commits with the (here empty) business writes. One key
   * through {@code Once.withStore(store.onConnection(c)).execute}; a batch through {@code claimAll}
   * then one {@code complete} per key acquired. A transaction the database aborts as a deadlock or
   * serialization failure is retried whole after a short random back-off, as the store's exception
   * asks, and counted in {@link Variant#retries()}.
   */
  static Variant transactionalCycle(
      JdbcIdempotencyStore store, DataSource dataSource, Reset reset) {
    Once base = Once.builder(store).lease(LEASE).retention(RETENTION).build();
    AtomicLong retries = new AtomicLong();
    return new Variant() {
      @Override
      public void reset() throws Exception {
        reset.run();
      }

      @Override
      public void process(List<IdempotencyKey> keys, Answers answers)
          throws SQLException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
          answers.clear();
          try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
              IdempotencyStore bound = store.onConnection(c);
              if (keys.size() == 1) {
                countExecution(
                    base.withStore(bound).execute(keys.get(0), FINGERPRINT, CODEC, ACTION),
                    answers);
              } else {
                claimAndComplete(bound, keys, answers);
              }
              c.commit();
              return;
            } catch (Exception | Error e) {
              c.rollback();
              // What the store asks of its caller on a deadlock or serialization failure: retry the
              // transaction.
              if (attempt >= MAX_ATTEMPTS || !isTransactionConflict(e)) {
                throw e;
              }
              retries.incrementAndGet();
              // Jittered back-off, so two consumers that deadlocked do not meet again in lockstep.
              Thread.sleep(
                  java.util.concurrent.ThreadLocalRandom.current().nextLong(1, 2 + 2L * attempt));
            }
          }
        }
      }

      @Override
      public long retries() {
        return retries.get();
      }
    };
  }

  private static final int MAX_ATTEMPTS = 50;

  private static boolean isTransactionConflict(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransactionRollbackException) {
        return true;
      }
      if (t instanceof SQLException s
          && ("40001".equals(s.getSQLState()) || "40P01".equals(s.getSQLState()))) {
        return true;
      }
    }
    return false;
  }

  private static void countExecution(Execution<String> e, Answers answers) {
    if (!"done".equals(e.value())) {
      answers.other(e);
    } else if (e.replayed()) {
      answers.duplicate++;
    } else {
      answers.fresh++;
    }
  }

  private static void claimAndComplete(
      IdempotencyStore store, List<IdempotencyKey> keys, Answers answers) {
    List<ClaimResult> results = store.claimAll(requests(keys));
    for (int i = 0; i < keys.size(); i++) {
      ClaimResult r = results.get(i);
      if (r instanceof ClaimResult.Acquired acquired) {
        store.complete(keys.get(i), acquired.token(), DONE, RETENTION);
        answers.fresh++;
      } else if (r instanceof ClaimResult.Completed) {
        answers.duplicate++;
      } else {
        answers.other(r);
      }
    }
  }

  /** Empties a store's table before a repetition. */
  @FunctionalInterface
  interface Reset {
    void run() throws Exception;
  }
}
