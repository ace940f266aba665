package dev.once.testkit;

import static dev.once.testkit.ContractSupport.FP_A;
import static dev.once.testkit.ContractSupport.FP_B;
import static dev.once.testkit.ContractSupport.LONG_LEASE;
import static dev.once.testkit.ContractSupport.RETENTION;
import static dev.once.testkit.ContractSupport.acquired;
import static dev.once.testkit.ContractSupport.assertReplays;
import static dev.once.testkit.ContractSupport.key;
import static dev.once.testkit.ContractSupport.newScope;
import static dev.once.testkit.ContractSupport.outcome;
import static dev.once.testkit.ContractSupport.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.once.ClaimResult;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.StoreException;
import dev.once.StoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A SQL store whose claim, complete and release run on the caller's connection, so the idempotency
 * record and the business change commit or roll back together. A store module extends it in a few
 * lines:
 *
 * <pre>{@code
 * class PostgresTransactionalIT extends TransactionalStoreContract {
 *   protected Connection openConnection() throws SQLException { return database.connect(); }
 *   protected IdempotencyStore storeOn(Connection c, boolean wait) {
 *     return (wait ? storeThatWaits : storeThatFailsFast).onConnection(c);  // ConcurrentClaimPolicy WAIT / FAIL_FAST
 *   }
 *   protected IdempotencyStore standaloneStore() { return store; }
 * }
 * }</pre>
 *
 * <p>The suite keeps its business rows in {@value #BUSINESS_TABLE} ({@code id VARCHAR(100) PRIMARY
 * KEY, amount INT NOT NULL}), which it creates if it is missing. Each test uses fresh random keys
 * and row ids, so test classes may share the tables. Every connection the suite opens is rolled
 * back and closed after the test. The clock is never moved: leases here are long enough to outlive
 * every test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class TransactionalStoreContract {

  /** The business table the suite writes next to the idempotency records. */
  public static final String BUSINESS_TABLE = "once_contract_business";

  private static final String CREATE_BUSINESS_TABLE =
      "CREATE TABLE " + BUSINESS_TABLE + " (id VARCHAR(100) PRIMARY KEY, amount INT NOT NULL)";
  private static final Duration PROMPTLY = Duration.ofSeconds(10);

  private final List<Connection> opened = new ArrayList<>();
  private ExecutorService background;

  /**
   * {@return a new connection to the database under test} The contract sets autocommit false and
   * closes it.
   *
   * @throws SQLException if the database cannot be reached
   */
  protected abstract Connection openConnection() throws SQLException;

  /**
   * A store view whose claim/complete/release run on the caller's connection, inside its
   * transaction. waitForConcurrentClaims=false: a claim that meets a key held by another open
   * transaction answers ClaimResult.InProgress at once; true: it waits for that transaction to end,
   * then answers truthfully.
   *
   * @param connection the caller's connection, autocommit off
   * @param waitForConcurrentClaims whether a claim waits for another open transaction's claim
   * @return the store view
   */
  protected abstract IdempotencyStore storeOn(
      Connection connection, boolean waitForConcurrentClaims);

  /** {@return a store on the same records, with its own connections (autocommit)} */
  protected abstract IdempotencyStore standaloneStore();

  /**
   * The isolation levels the database offers, weakest first; the suite runs its isolation tests
   * under each and its other tests under the first. Default read committed, repeatable read and
   * serializable; SQLite has serializable only.
   *
   * @return {@link Connection} isolation constants, weakest first
   */
  protected List<Integer> isolationLevels() {
    return List.of(
        Connection.TRANSACTION_READ_COMMITTED,
        Connection.TRANSACTION_REPEATABLE_READ,
        Connection.TRANSACTION_SERIALIZABLE);
  }

  /**
   * Whether the database lets one transaction write at a time (SQLite): any open transaction that
   * has written, even a claim that only replayed, holds every key until it ends, and a claim that
   * waits for holders waits for it too. Default false: locks are per row.
   *
   * @return true if a write locks the whole database until the transaction ends
   */
  protected boolean oneWriterAtATime() {
    return false;
  }

  private int weakestIsolation() {
    return isolationLevels().get(0);
  }

  @BeforeEach
  void createBusinessTable() throws SQLException {
    background = Executors.newCachedThreadPool();
    try (Connection c = openConnection()) {
      c.setAutoCommit(true);
      if (businessTableExists(c)) {
        return;
      }
      try (Statement s = c.createStatement()) {
        s.execute(CREATE_BUSINESS_TABLE);
      } catch (SQLException e) {
        // Another test class may have created it meanwhile ("already exists"); anything else is
        // real.
        if (!businessTableExists(c)) {
          throw e;
        }
      }
    }
  }

  private static boolean businessTableExists(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.executeQuery("SELECT COUNT(*) FROM " + BUSINESS_TABLE + " WHERE 1 = 0").close();
      return true;
    } catch (SQLException e) {
      if (!c.getAutoCommit()) {
        c.rollback();
      }
      return false;
    }
  }

  @AfterEach
  void closeEverything() {
    // Connections first, in the order they were opened: rolling back a holder unblocks a claim
    // still
    // waiting in a background thread, so the threads can then stop.
    for (Connection c : opened) {
      try {
        if (!c.isClosed()) {
          if (!c.getAutoCommit()) {
            c.rollback();
          }
          c.close();
        }
      } catch (SQLException e) {
        // Best effort: a connection the test already broke on purpose may refuse.
      }
    }
    opened.clear();
    ContractSupport.shutdown(background);
  }

  // ---------------------------------------------------------------------------------------------------------

  @Test
  @DisplayName(
      "a claim completed in a committed transaction commits together with the business row")
  void claimAndBusinessRowCommitTogether() throws SQLException {
    IdempotencyKey key = key(newScope(), "order-1");
    String row = newRowId();
    Connection c = transaction(weakestIsolation());
    IdempotencyStore store = storeOn(c, false);

    long token = acquired(store.claim(request(key, FP_A, LONG_LEASE))).token();
    insertBusinessRow(c, row);
    Outcome outcome = outcome("committed");
    store.complete(key, token, outcome, RETENTION);
    c.commit();

    assertReplays(standaloneStore().claim(request(key, FP_A)), outcome);
    assertThat(businessRows(row)).as("business rows").isEqualTo(1);
  }

  @ParameterizedTest(name = "isolation level {0}")
  @MethodSource("isolationLevels")
  @DisplayName(
      "a key claimed again in the transaction that holds it is in progress, never acquired twice")
  void aKeyClaimedAgainInItsOwnTransactionIsInProgress(int isolation) throws SQLException {
    IdempotencyKey key = key(newScope(), "order-1");
    Connection c = transaction(isolation);
    IdempotencyStore store = storeOn(c, false);

    long token = acquired(store.claim(request(key, FP_A, LONG_LEASE))).token();
    assertThat(store.claim(request(key, FP_A, LONG_LEASE)))
        .as("the same key again, same transaction")
        .isInstanceOf(ClaimResult.InProgress.class);
    store.renew(key, token, LONG_LEASE);
    Outcome outcome = outcome("once");
    store.complete(key, token, outcome, RETENTION);
    c.commit();

    assertReplays(standaloneStore().claim(request(key, FP_A)), outcome);
  }

  @ParameterizedTest(name = "isolation level {0}")
  @MethodSource("isolationLevels")
  @DisplayName("a claim released inside a transaction that then commits leaves the key free")
  void aClaimReleasedInACommittedTransactionLeavesTheKeyFree(int isolation) throws SQLException {
    IdempotencyKey key = key(newScope(), "order-1");
    String row = newRowId();
    Connection c = transaction(isolation);
    IdempotencyStore store = storeOn(c, false);

    long token = acquired(store.claim(request(key, FP_A, LONG_LEASE))).token();
    insertBusinessRow(c, row);
    store.release(key, token);
    c.commit();

    assertThat(businessRows(row)).as("business rows").isEqualTo(1);
    acquired(standaloneStore().claim(request(key, FP_A)));
  }

  @Test
  @DisplayName("a claim that takes over a dead record in a transaction completes it and replays")
  void aTransactionalClaimOverADeadRecordCompletesIt() throws Exception {
    IdempotencyKey key = key(newScope(), "order-1");
    IdempotencyStore standalone = standaloneStore();
    acquired(standalone.claim(request(key, FP_A, Duration.ofMillis(50))));
    // The first holder died without a word; its lease runs out.
    Connection c = transaction(weakestIsolation());
    IdempotencyStore store = storeOn(c, false);
    long token =
        acquired(
                await()
                    .atMost(PROMPTLY)
                    .until(
                        () -> store.claim(request(key, FP_A, LONG_LEASE)),
                        r -> r instanceof ClaimResult.Acquired))
            .token();
    Outcome outcome = outcome("the second holder's");
    store.complete(key, token, outcome, RETENTION);
    c.commit();

    assertReplays(standalone.claim(request(key, FP_A)), outcome);
  }

  @Test
  @DisplayName("a rolled-back transaction leaves neither the record nor the business row")
  void claimAndBusinessRowRollBackTogether() throws SQLException {
    IdempotencyKey key = key(newScope(), "order-1");
    String row = newRowId();
    Connection c = transaction(weakestIsolation());
    IdempotencyStore store = storeOn(c, false);

    long token = acquired(store.claim(request(key, FP_A, LONG_LEASE))).token();
    insertBusinessRow(c, row);
    store.complete(key, token, outcome("rolled back"), RETENTION);
    c.rollback();

    acquired(standaloneStore().claim(request(key, FP_A)));
    assertThat(businessRows(row)).as("business rows").isZero();
  }

  @Test
  @DisplayName(
      "a connection closed without commit (a crash) leaves neither the record nor the business row")
  void crashBeforeCommitLeavesNothing() throws SQLException {
    IdempotencyKey key = key(newScope(), "order-1");
    String row = newRowId();
    Connection c = transaction(weakestIsolation());
    IdempotencyStore store = storeOn(c, false);

    long token = acquired(store.claim(request(key, FP_A, LONG_LEASE))).token();
    insertBusinessRow(c, row);
    store.complete(key, token, outcome("never committed"), RETENTION);
    c.close();

    acquired(standaloneStore().claim(request(key, FP_A)));
    assertThat(businessRows(row)).as("business rows").isZero();
  }

  @ParameterizedTest(name = "isolation level {0}")
  @MethodSource("isolationLevels")
  @DisplayName("claims that do not acquire leave the transaction usable")
  void claimsThatDoNotAcquireDoNotPoisonTheTransaction(int isolation) throws SQLException {
    IdempotencyKey completed = key(newScope(), "completed-earlier");
    IdempotencyKey held = key(newScope(), "held-by-another");
    Outcome outcome = outcome("completed earlier");
    IdempotencyStore standalone = standaloneStore();
    standalone.complete(
        completed,
        acquired(standalone.claim(request(completed, FP_A))).token(),
        outcome,
        RETENTION);
    acquired(standalone.claim(request(held, FP_A, LONG_LEASE)));

    String row = newRowId();
    Connection c = transaction(isolation);
    IdempotencyStore store = storeOn(c, false);

    assertReplays(store.claim(request(completed, FP_A)), outcome);
    assertUsable(c, "a claim answered Completed");
    assertThat(store.claim(request(completed, FP_B))).isInstanceOf(ClaimResult.Mismatch.class);
    assertUsable(c, "a claim answered Mismatch");
    assertThat(store.claim(request(held, FP_A, LONG_LEASE)))
        .isInstanceOf(ClaimResult.InProgress.class);
    assertUsable(c, "a claim answered InProgress");
    insertBusinessRow(c, row);
    c.commit();

    assertThat(businessRows(row)).as("business rows").isEqualTo(1);
    assertReplays(standalone.claim(request(completed, FP_A)), outcome);
  }

  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  @Test
  @DisplayName(
      "fail-fast: a key held by another open transaction is in progress at once, then completed")
  void failFastAnswersInProgressWhileAnotherTransactionHoldsTheKey() throws Exception {
    IdempotencyKey key = key(newScope(), "order-1");
    Connection c1 = transaction(weakestIsolation());
    Connection c2 = transaction(weakestIsolation());
    IdempotencyStore t1 = storeOn(c1, false);
    IdempotencyStore t2 = storeOn(c2, false);
    long token = acquired(t1.claim(request(key, FP_A, LONG_LEASE))).token();

    Future<ClaimResult> second = background.submit(() -> t2.claim(request(key, FP_A, LONG_LEASE)));
    await("a fail-fast claim of a key held by an open transaction answers")
        .atMost(PROMPTLY)
        .until(second::isDone);
    assertThat(second.get()).isInstanceOf(ClaimResult.InProgress.class);
    c2.commit();

    Outcome outcome = outcome("t1");
    t1.complete(key, token, outcome, RETENTION);
    c1.commit();

    assertReplays(t2.claim(request(key, FP_A)), outcome);
    c2.commit();
  }

  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  @ParameterizedTest(name = "wait for concurrent claims: {0}")
  @ValueSource(booleans = {false, true})
  @DisplayName(
      "replays of a completed key in concurrent open transactions all replay; none gets 'in progress',"
          + " none waits where locks are per row")
  void concurrentReplaysOfACompletedKeyAllReplay(boolean waitForConcurrentClaims) throws Exception {
    IdempotencyKey key = key(newScope(), "order-1");
    Outcome outcome = outcome("completed earlier");
    IdempotencyStore standalone = standaloneStore();
    standalone.complete(
        key, acquired(standalone.claim(request(key, FP_A))).token(), outcome, RETENTION);

    Connection c1 = transaction(weakestIsolation());
    assertReplays(storeOn(c1, waitForConcurrentClaims).claim(request(key, FP_A)), outcome);
    // c1 stays open, holding whatever its replay locked.
    Connection c2 = transaction(weakestIsolation());
    IdempotencyStore t2 = storeOn(c2, waitForConcurrentClaims);
    Future<ClaimResult> replay = background.submit(() -> t2.claim(request(key, FP_A)));
    boolean c1Open = true;
    if (waitForConcurrentClaims && oneWriterAtATime()) {
      // c1's replay holds the database's one write lock, and a waiting claim waits for any holder:
      // it must neither answer early nor run anything, only replay once c1 has ended.
      assertStaysBlocked(replay);
      c1.commit();
      c1Open = false;
    }
    await("a replay beside another open replay answers").atMost(PROMPTLY).until(replay::isDone);
    assertReplays(replay.get(), outcome);
    Future<ClaimResult> mismatch = background.submit(() -> t2.claim(request(key, FP_B)));
    await("a mismatch beside an open replay answers").atMost(PROMPTLY).until(mismatch::isDone);
    assertThat(mismatch.get()).isInstanceOf(ClaimResult.Mismatch.class);
    c2.commit();
    if (c1Open) {
      c1.commit();
    }
  }

  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  @Test
  @DisplayName(
      "wait mode: a claim blocks while another transaction holds the key, then sees its commit")
  void waitModeBlocksUntilTheHolderCommits() throws Exception {
    IdempotencyKey key = key(newScope(), "order-1");
    Connection c1 = transaction(weakestIsolation());
    Connection c2 = transaction(weakestIsolation());
    IdempotencyStore t1 = storeOn(c1, false);
    IdempotencyStore t2 = storeOn(c2, true);
    long token = acquired(t1.claim(request(key, FP_A, LONG_LEASE))).token();

    Future<ClaimResult> second = background.submit(() -> t2.claim(request(key, FP_A, LONG_LEASE)));
    assertStaysBlocked(second);

    Outcome outcome = outcome("t1");
    t1.complete(key, token, outcome, RETENTION);
    c1.commit();

    await("the waiting claim answers after the holder committed")
        .atMost(PROMPTLY)
        .until(second::isDone);
    assertReplays(second.get(), outcome);
    c2.commit();
  }

  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  @Test
  @DisplayName(
      "wait mode: a claim blocks while another transaction holds the key, then acquires after its rollback")
  void waitModeAcquiresAfterTheHolderRollsBack() throws Exception {
    IdempotencyKey key = key(newScope(), "order-1");
    Connection c1 = transaction(weakestIsolation());
    Connection c2 = transaction(weakestIsolation());
    IdempotencyStore t1 = storeOn(c1, false);
    IdempotencyStore t2 = storeOn(c2, true);
    acquired(t1.claim(request(key, FP_A, LONG_LEASE)));

    Future<ClaimResult> second = background.submit(() -> t2.claim(request(key, FP_A, LONG_LEASE)));
    assertStaysBlocked(second);

    c1.rollback();

    await("the waiting claim answers after the holder rolled back")
        .atMost(PROMPTLY)
        .until(second::isDone);
    long token = acquired(second.get()).token();
    Outcome outcome = outcome("t2");
    t2.complete(key, token, outcome, RETENTION);
    c2.commit();
    assertReplays(standaloneStore().claim(request(key, FP_A)), outcome);
  }

  // A test (or its helper) throws whatever fails it; JUnit reports any exception, an interrupt too.
  @SuppressWarnings("InterruptedExceptionSwallowed")
  @Test
  @DisplayName("16 transactions race on one key: exactly one acquires and writes its business row")
  void racingTransactionsWriteOneBusinessRow() throws Exception {
    int threads = 16;
    IdempotencyKey key = key(newScope(), "order-1");
    String rowPrefix = newRowId();
    List<Connection> connections = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      connections.add(transaction(weakestIsolation()));
    }
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Future<ClaimResult>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Connection c = connections.get(t);
      String row = rowPrefix + "-" + t;
      futures.add(
          background.submit(
              () -> {
                IdempotencyStore store = storeOn(c, false);
                start.await(30, TimeUnit.SECONDS);
                ClaimResult result = store.claim(request(key, FP_A, LONG_LEASE));
                if (result instanceof ClaimResult.Acquired acquired) {
                  insertBusinessRow(c, row);
                  store.complete(key, acquired.token(), outcome("winner"), RETENTION);
                }
                c.commit();
                return result;
              }));
    }
    int acquisitions = 0;
    for (int t = 0; t < threads; t++) {
      ClaimResult result = futures.get(t).get(90, TimeUnit.SECONDS);
      assertThat(result)
          .as("answer to transaction %d", t)
          .isInstanceOfAny(
              ClaimResult.Acquired.class,
              ClaimResult.InProgress.class,
              ClaimResult.Completed.class);
      if (result instanceof ClaimResult.Acquired) {
        acquisitions++;
      }
    }
    assertThat(acquisitions).as("acquisitions").isEqualTo(1);
    assertThat(businessRowsStartingWith(rowPrefix + "-")).as("business rows written").isEqualTo(1);
    assertReplays(standaloneStore().claim(request(key, FP_A)), outcome("winner"));
  }

  @ParameterizedTest(name = "isolation level {0}")
  @MethodSource("isolationLevels")
  @DisplayName("a claim never acquires a key completed after the transaction's snapshot was taken")
  void claimAfterSnapshotNeverAcquiresACompletedKey(int isolation) throws SQLException {
    IdempotencyKey key = key(newScope(), "order-1");
    Connection c = transaction(isolation);
    IdempotencyStore store = storeOn(c, false);
    businessRowsOn(
        c, newRowId()); // the transaction's first read: under snapshot isolation, its snapshot

    IdempotencyStore standalone = standaloneStore();
    Outcome outcome = outcome("completed elsewhere");
    standalone.complete(
        key, acquired(standalone.claim(request(key, FP_A))).token(), outcome, RETENTION);

    ClaimResult[] result = new ClaimResult[1];
    Throwable thrown =
        catchThrowable(() -> result[0] = store.claim(request(key, FP_A, LONG_LEASE)));
    if (thrown == null) {
      // Anything but the stored outcome is a lie; Acquired would mean a second execution.
      assertReplays(result[0], outcome);
    } else {
      // The only other truthful answer: the store cannot answer from this snapshot and says so with
      // a
      // serialization failure (SQLState class 40), so the caller retries the whole transaction.
      // Read committed
      // has no snapshot to be stale, so there the claim must answer.
      assertThat(isolation)
          .as("isolation level of a claim that threw %s", thrown)
          .isNotEqualTo(Connection.TRANSACTION_READ_COMMITTED);
      assertThat(thrown)
          .as("what the claim threw")
          .isInstanceOf(StoreException.class)
          .isNotInstanceOf(StoreUnavailableException.class);
      SQLException cause = sqlCause(thrown);
      assertThat((Throwable) cause).as("the SQL failure under %s", thrown).isNotNull();
      assertThat(cause.getSQLState()).as("SQLState of %s", cause).startsWith("40");
    }
    c.rollback();
    assertReplays(standalone.claim(request(key, FP_A)), outcome);
  }

  // ---------------------------------------------------------------------------------------------------------

  /** A new connection, registered for cleanup, with the isolation level set and autocommit off. */
  private Connection transaction(int isolation) throws SQLException {
    Connection c = openConnection();
    opened.add(c);
    assertThat(c.getMetaData().supportsTransactionIsolationLevel(isolation))
        .as("the database supports isolation level %s", isolation)
        .isTrue();
    c.setTransactionIsolation(isolation);
    c.setAutoCommit(false);
    return c;
  }

  private static String newRowId() {
    return "row-" + UUID.randomUUID();
  }

  private static void insertBusinessRow(Connection c, String id) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("INSERT INTO " + BUSINESS_TABLE + " (id, amount) VALUES (?, ?)")) {
      s.setString(1, id);
      s.setInt(2, 10);
      assertThat(s.executeUpdate()).as("rows inserted").isEqualTo(1);
    }
  }

  private int businessRows(String id) throws SQLException {
    try (Connection c = openConnection()) {
      c.setAutoCommit(true);
      return businessRowsOn(c, id);
    }
  }

  private static int businessRowsOn(Connection c, String id) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("SELECT COUNT(*) FROM " + BUSINESS_TABLE + " WHERE id = ?")) {
      s.setString(1, id);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private int businessRowsStartingWith(String prefix) throws SQLException {
    // Row ids are "row-" + UUID + "-" + n: no LIKE wildcard characters to escape.
    try (Connection c = openConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT COUNT(*) FROM " + BUSINESS_TABLE + " WHERE id LIKE ?")) {
      c.setAutoCommit(true);
      s.setString(1, prefix + "%");
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private static @Nullable SQLException sqlCause(Throwable thrown) {
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        return sql;
      }
    }
    return null;
  }

  /** Fails unless the transaction still accepts statements. */
  private static void assertUsable(Connection c, String after) {
    Throwable thrown = catchThrowable(() -> businessRowsOn(c, "no-such-row"));
    assertThat(thrown).as("a statement in the caller's transaction after %s", after).isNull();
  }

  private static void assertStaysBlocked(Future<?> claim) {
    await("a waiting claim stays blocked while the holder's transaction is open")
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> !claim.isDone());
  }
}
