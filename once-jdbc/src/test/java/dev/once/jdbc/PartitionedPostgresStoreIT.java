package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.Outcome;
import dev.once.Scope;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every store contract of {@link PostgresStoreIT} again, over the {@link TableLayout#PARTITIONED
 * partitioned} layout, and what only that layout does: dropping partitions, creating them ahead,
 * and storing exactly what the plain layout stores.
 *
 * <p>The contracts' store creates no partitions itself ({@code partitionsAhead} zero): the purge
 * tests of the contract count records purged one by one in bounded batches, which is what the
 * default partition does. Partitions half an hour wide around the real clock are created before the
 * contracts run, so every contract test that keeps the clock within them claims, completes, takes
 * over (moving records between partitions) and reads records in real partitions; the contracts'
 * purge tests move the clock ten years ahead, drop them all, and go on in the default partition.
 */
class PartitionedPostgresStoreIT extends PostgresStoreIT {

  private static final String[] FUNCTIONS = {
    "_claim(bytea[], bytea[], bigint[], bigint[], bigint, boolean, bytea)",
    "_add_partitions(bigint, bigint, bigint, int)",
    "_drop_expired(bigint, int)"
  };

  @Override
  protected JdbcIdempotencyStore.Builder storeBuilder(DataSource dataSource) {
    return JdbcIdempotencyStore.builder(dataSource)
        .layout(TableLayout.PARTITIONED)
        .partitionsAhead(Duration.ZERO);
  }

  @Override
  protected void dropSchema(Statement s, String name) throws SQLException {
    super.dropSchema(s, name);
    for (String function : FUNCTIONS) {
      s.execute("DROP FUNCTION " + name + function);
    }
  }

  /** The claim function refuses the others: its per-key lock needs a fresh snapshot. */
  @Override
  protected List<Integer> supportedIsolationLevels() {
    return List.of(Connection.TRANSACTION_READ_COMMITTED);
  }

  @BeforeAll
  void createPartitionsAroundTheRealClock() throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT "
                    + table
                    + "_add_partitions((EXTRACT(EPOCH FROM now()) * 1000)::bigint - 3600000,"
                    + " 1800000, 6 * 3600000, 1000)")) {
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        assertThat(rs.getInt(1)).as("partitions created").isGreaterThanOrEqualTo(12);
      }
    }
  }

  @Override
  protected boolean writesTransactionalClaimsAtOnce() {
    return true;
  }

  /**
   * Here a claim in a transaction holds the key's advisory lock and its written record, and a
   * lease-mode claimer's claim function takes the same lock: it never acquires the key under the
   * transaction, which completes.
   */
  @Override
  @Test
  void aLeaseModeClaimerBeatsAnUnwrittenTransactionalClaimAndOnlyOneCompletes() throws Exception {
    ClaimRequest request =
        new ClaimRequest(
            IdempotencyKey.of(Scope.of("t-" + UUID.randomUUID(), "lease"), "k"),
            Fingerprint.of("lease request"),
            Duration.ofHours(1),
            Duration.ofHours(1));
    ExecutorService background = Executors.newSingleThreadExecutor();
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      var view = store.onConnection(c);
      long token = ((ClaimResult.Acquired) view.claim(request)).token();
      Future<ClaimResult> leaseClaim = background.submit(() -> store.claim(request));
      view.complete(
          request.key(), token, Outcome.of("text/plain", new byte[] {1}), Duration.ofHours(1));
      c.commit();
      assertThat(leaseClaim.get(30, TimeUnit.SECONDS))
          .as("the lease-mode claim")
          .isNotInstanceOf(ClaimResult.Acquired.class);
    } finally {
      background.shutdownNow();
    }
    ClaimResult replay = store.claim(request);
    assertThat(replay).isInstanceOf(ClaimResult.Completed.class);
    assertThat(((ClaimResult.Completed) replay).outcome().body()).containsExactly(1);
  }

  @Test
  void aClaimInARepeatableReadTransactionIsRefusedNamingTheLevel() throws SQLException {
    try (Connection c = pool.getConnection()) {
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      c.setAutoCommit(false);
      try {
        assertThatThrownBy(() -> store.onConnection(c).claim(request("rr", Duration.ofHours(1))))
            .hasMessageContaining("need READ COMMITTED, but the transaction is REPEATABLE READ");
      } finally {
        c.rollback();
        c.setAutoCommit(true);
        c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
      }
    }
  }

  @Test
  void aStandaloneReplayDoesNotQueueBehindATransactionHoldingTheKeysLock() throws Exception {
    IdempotencyKey key = key("replayed");
    Outcome outcome = outcome("done");
    ClaimResult.Acquired a = (ClaimResult.Acquired) store.claim(request(key, Duration.ofHours(1)));
    store.complete(key, a.token(), outcome, Duration.ofHours(1));
    ExecutorService background = Executors.newSingleThreadExecutor();
    try (Connection holder = pool.getConnection()) {
      holder.setAutoCommit(false);
      // The claim answers the replay, and its transaction keeps the key's lock until it ends.
      assertThat(store.onConnection(holder).claim(request(key, Duration.ofHours(1))))
          .isInstanceOf(ClaimResult.Completed.class);
      Future<ClaimResult> standalone =
          background.submit(() -> store.claim(request(key, Duration.ofHours(1))));
      assertThat(standalone.get(10, TimeUnit.SECONDS))
          .as("answered while the holder's transaction is open")
          .isInstanceOf(ClaimResult.Completed.class);
      holder.rollback();
      holder.setAutoCommit(true);
    } finally {
      background.shutdownNow();
    }
  }

  @Test
  void aStandaloneClaimOfAKeyInFlightInAnOpenTransactionWaitsForItsEnd() throws Exception {
    IdempotencyKey key = key("in-flight");
    ExecutorService background = Executors.newSingleThreadExecutor();
    try (Connection holder = pool.getConnection()) {
      holder.setAutoCommit(false);
      ClaimResult.Acquired a =
          (ClaimResult.Acquired)
              store.onConnection(holder).claim(request(key, Duration.ofHours(1)));
      Future<ClaimResult> standalone =
          background.submit(() -> store.claim(request(key, Duration.ofHours(1))));
      store.onConnection(holder).complete(key, a.token(), outcome("first"), Duration.ofHours(1));
      await("the standalone claim waits for the key's lock")
          .atMost(Duration.ofSeconds(10))
          .until(this::advisoryLocksAwaited, n -> n > 0);
      assertThat(standalone).isNotDone();
      holder.commit();
      holder.setAutoCommit(true);
      assertThat(standalone.get(10, TimeUnit.SECONDS))
          .as("the holder's committed outcome")
          .isInstanceOf(ClaimResult.Completed.class);
    } finally {
      background.shutdownNow();
    }
  }

  @Test
  void thePurgeDropsPartitionsWhoseRangeHasPassedAndCreatesThoseAhead() throws SQLException {
    String own = table + "_r";
    AtomicLong offset = new AtomicLong();
    JdbcIdempotencyStore minutes =
        JdbcIdempotencyStore.builder(pool)
            .table(own)
            .layout(TableLayout.PARTITIONED)
            .partitionWidth(Duration.ofMinutes(1))
            .partitionsAhead(Duration.ofMinutes(10))
            .clockOffset(() -> Duration.ofMillis(offset.get()))
            .createSchema(true)
            .build();
    try {
      assertThat(partitions(own)).as("partitions ahead, and the default").hasSizeBetween(11, 12);
      List<IdempotencyKey> brief = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        IdempotencyKey key = key("brief-" + i);
        ClaimResult.Acquired a =
            (ClaimResult.Acquired) minutes.claim(request(key, Duration.ofMinutes(1)));
        minutes.complete(key, a.token(), outcome("brief"), Duration.ofMinutes(1));
        brief.add(key);
      }
      IdempotencyKey kept = key("kept");
      ClaimResult.Acquired a =
          (ClaimResult.Acquired) minutes.claim(request(kept, Duration.ofMinutes(1)));
      minutes.complete(kept, a.token(), outcome("kept"), Duration.ofMinutes(8));
      IdempotencyKey beyond = key("beyond-the-partitions");
      minutes.claim(request(beyond, Duration.ofHours(1)));
      assertThat(partitionOf(own, beyond)).isEqualTo(own + "_default");

      offset.set(Duration.ofMinutes(3).toMillis());
      assertThat(minutes.purgeExpired(1))
          .as("one purge drops every passed partition, whatever its limit")
          .isEqualTo(5);
      for (IdempotencyKey key : brief) {
        assertThat(minutes.admin().inspect(key)).isEmpty();
        assertThat(minutes.claim(request(key, Duration.ofMinutes(1))))
            .isInstanceOf(ClaimResult.Acquired.class);
      }
      assertThat(minutes.admin().inspect(kept)).isPresent();
      assertThat(minutes.admin().inspect(beyond)).isPresent();
      assertThat(partitions(own))
          .as("the passed partitions are gone, and those ahead of the moved clock exist")
          .anySatisfy(p -> assertThat(p).isEqualTo(own + "_default"))
          .hasSizeBetween(11, 12);
      assertThat(minutes.purgeExpired(1000)).as("nothing more has passed").isZero();
    } finally {
      try (Connection c = pool.getConnection();
          Statement s = c.createStatement()) {
        dropSchema(s, own);
      }
    }
  }

  @Test
  void storedRecordsAreByteForByteThoseOfThePlainLayout() throws SQLException {
    String plainTable = table + "_plain";
    JdbcIdempotencyStore plain =
        JdbcIdempotencyStore.builder(pool).table(plainTable).createSchema(true).build();
    try {
      IdempotencyKey key = key("same");
      Outcome outcome =
          Outcome.of("application/json", "{\"id\":42}".getBytes(StandardCharsets.UTF_8));
      for (JdbcIdempotencyStore s : List.of(plain, store)) {
        ClaimResult.Acquired a = (ClaimResult.Acquired) s.claim(request(key, Duration.ofHours(1)));
        s.complete(key, a.token(), outcome, Duration.ofHours(1));
      }
      IdempotencyKey marker = key("inbox-marker");
      for (JdbcIdempotencyStore s : List.of(plain, store)) {
        try (Connection c = pool.getConnection()) {
          c.setAutoCommit(false);
          JdbcIdempotencyStore.InboxClaims claims =
              s.claimForInbox(c, List.of(request(marker, Duration.ofHours(1))));
          assertThat(claims.completed()).isTrue();
          c.commit();
          c.setAutoCommit(true);
        }
      }
      for (IdempotencyKey k : List.of(key, marker)) {
        String[] partitioned = storedRow(table, k);
        assertThat(partitioned).isEqualTo(storedRow(plainTable, k));
      }
    } finally {
      try (Connection c = pool.getConnection();
          Statement s = c.createStatement()) {
        s.execute("DROP TABLE " + plainTable);
        s.execute("DROP SEQUENCE " + plainTable + "_token_seq");
      }
    }
  }

  @Test
  void theBuilderRefusesALayoutTheDialectLacksAndANameTooLongForItsPartitions() {
    assertThatThrownBy(
            () ->
                JdbcIdempotencyStore.builder(pool)
                    .dialect(SqlDialect.MARIADB)
                    .layout(TableLayout.PARTITIONED)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the PARTITIONED layout is for PostgreSQL only, but the dialect is MARIADB");
    String long47 = "t".repeat(47);
    assertThatThrownBy(() -> storeBuilder(pool).table("app." + long47).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 46 characters")
        .hasMessageContaining("'" + long47 + "' has 47");
    assertThatThrownBy(() -> storeBuilder(pool).partitionWidth(Duration.ofMillis(1500)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "partitionWidth must be a whole number of seconds, at least 1 s, but was PT1.5S");
  }

  private long advisoryLocksAwaited() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Status, fingerprint, outcome and the record's times relative to one another. */
  private String[] storedRow(String tableName, IdempotencyKey key) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT status, encode(fingerprint, 'hex'), encode(outcome, 'hex'),"
                    + " expires_at - lease_until FROM "
                    + tableName
                    + " WHERE id = ?")) {
      ps.setBytes(1, key.digest());
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("a row in " + tableName).isTrue();
        return new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)};
      }
    }
  }

  private List<String> partitions(String parent) throws SQLException {
    List<String> names = new ArrayList<>();
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = ?::regclass")) {
      ps.setString(1, parent);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          names.add(rs.getString(1));
        }
      }
    }
    return names;
  }

  private String partitionOf(String parent, IdempotencyKey key) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT tableoid::regclass::text FROM " + parent + " WHERE id = ?")) {
      ps.setBytes(1, key.digest());
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }

  private static IdempotencyKey key(String name) {
    return IdempotencyKey.of(Scope.of("t-" + UUID.randomUUID(), "partitioned"), name);
  }

  private static ClaimRequest request(IdempotencyKey key, Duration retention) {
    return new ClaimRequest(key, Fingerprint.of("request"), Duration.ofSeconds(30), retention);
  }

  private static ClaimRequest request(String name, Duration retention) {
    return request(key(name), retention);
  }

  private static Outcome outcome(String text) {
    return Outcome.of("text/plain", text.getBytes(StandardCharsets.UTF_8));
  }
}
