package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.KeyPolicy;
import dev.once.OnceListener;
import dev.once.Purger;
import dev.once.Scope;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The inbox on real databases: one transaction per batch, each id applied once, failures roll back.
 */
class JdbcInboxIT {

  record Message(String id, int amount) {}

  static Stream<TestDatabase> databases() {
    return Stream.of(
        TestServers.postgres(),
        TestServers.mariadb(),
        new TestDatabase(
            "H2 (embedded, in memory)",
            "jdbc:h2:mem:inbox-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
            "sa",
            ""),
        sqlite());
  }

  /** A SQLite file under target/sqlite, set up as the store requires. */
  static TestDatabase sqlite() {
    return new TestDatabase(
        "SQLite (embedded file, WAL)",
        "jdbc:sqlite:" + SqliteStoreIT.databaseFile("inbox") + "?" + SqliteStoreIT.SETTINGS,
        "",
        "");
  }

  private record Fixture(HikariDataSource pool, JdbcInbox inbox, String effects)
      implements AutoCloseable {
    long applied(String id) throws SQLException {
      try (Connection c = pool.getConnection();
          PreparedStatement ps =
              c.prepareStatement("SELECT COUNT(*) FROM " + effects + " WHERE msg_id = ?")) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    }

    long total() throws SQLException {
      try (Connection c = pool.getConnection();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + effects)) {
        rs.next();
        return rs.getLong(1);
      }
    }

    void apply(Connection c, Message m) throws SQLException {
      if (m.amount() < 0) {
        throw new IllegalArgumentException("poison message " + m.id());
      }
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO " + effects + " (msg_id, amount) VALUES (?, ?)")) {
        ps.setString(1, m.id());
        ps.setInt(2, m.amount());
        ps.executeUpdate();
      }
    }

    @Override
    public void close() throws SQLException {
      try (Connection c = pool.getConnection();
          Statement s = c.createStatement()) {
        s.execute("DROP TABLE " + effects);
        s.execute("DROP TABLE " + effects + "_once");
        boolean sqlite = c.getMetaData().getDatabaseProductName().equals("SQLite");
        s.execute((sqlite ? "DROP TABLE " : "DROP SEQUENCE ") + effects + "_once_token_seq");
      } finally {
        pool.close();
      }
    }
  }

  private static Fixture fixture(TestDatabase db) throws SQLException {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(db.jdbcUrl());
    config.setUsername(db.user());
    config.setPassword(db.password());
    config.setMaximumPoolSize(8);
    HikariDataSource pool = new HikariDataSource(config);
    String effects =
        "inbox_effects_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      // No unique constraint: a duplicate effect must stay countable, not be hidden by the schema.
      s.execute("CREATE TABLE " + effects + " (msg_id VARCHAR(100) NOT NULL, amount INT NOT NULL)");
    }
    JdbcIdempotencyStore store =
        JdbcIdempotencyStore.builder(pool)
            .table(effects + "_once")
            .createSchema(true)
            .concurrentClaims(ConcurrentClaimPolicy.WAIT)
            .build();
    return new Fixture(pool, JdbcInbox.builder(pool, store).consumer("inbox-it").build(), effects);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void theListenerHearsTheDuplicatesOfEachSourceOnceTheirBatchCommitted(TestDatabase db)
      throws Exception {
    try (Fixture f = fixture(db)) {
      List<String> heard = new CopyOnWriteArrayList<>();
      OnceListener listener =
          new OnceListener() {
            @Override
            public void inboxDuplicates(String consumer, String source, String store, int count) {
              heard.add(consumer + " " + source + " " + count);
            }
          };
      JdbcIdempotencyStore store =
          JdbcIdempotencyStore.builder(f.pool()).table(f.effects() + "_once").build();
      JdbcInbox inbox =
          JdbcInbox.builder(f.pool(), store).consumer("heard-it").listener(listener).build();
      Function<Message, String> source = m -> m.amount() == 1 ? "rabbitmq:q" : "kafka:g/t";
      inbox.process(
          List.of(new Message("m1", 1), new Message("m1", 1), new Message("m1", 2)),
          source,
          Message::id,
          f::apply,
          null);
      assertThat(heard).containsExactly("heard-it rabbitmq:q 1");

      // A rolled-back batch skipped nothing: it is told nothing.
      assertThatThrownBy(
              () ->
                  inbox.process(
                      List.of(new Message("m1", 2), new Message("bad", -1)),
                      source,
                      Message::id,
                      f::apply,
                      null))
          .isInstanceOf(JdbcInbox.HandlerFailedException.class);
      assertThat(heard).hasSize(1);

      inbox.process(
          List.of(new Message("m1", 2), new Message("m1", 1), new Message("m1", 1)),
          source,
          Message::id,
          f::apply,
          null);
      assertThat(heard.subList(1, heard.size()))
          .containsExactlyInAnyOrder("heard-it rabbitmq:q 2", "heard-it kafka:g/t 1");
      assertThat(f.total()).isEqualTo(2);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void redeliveredAndRepeatedIdsApplyOnce(TestDatabase db) throws Exception {
    try (Fixture f = fixture(db)) {
      List<Message> first =
          List.of(new Message("m1", 10), new Message("m2", 20), new Message("m1", 10));
      JdbcInbox.Batch<Message> a = f.inbox().process(first, Message::id, f::apply);
      assertThat(a.applied()).extracting(Message::id).containsExactly("m1", "m2");
      assertThat(a.duplicates()).extracting(Message::id).containsExactly("m1");

      JdbcInbox.Batch<Message> b =
          f.inbox()
              .process(
                  List.of(new Message("m2", 20), new Message("m3", 30)), Message::id, f::apply);
      assertThat(b.applied()).extracting(Message::id).containsExactly("m3");
      assertThat(b.duplicates()).extracting(Message::id).containsExactly("m2");
      assertThat(f.total()).isEqualTo(3);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void theSameIdFromTwoSourcesIsAppliedForEachUnlessTheScopeIsSharedOnPurpose(TestDatabase db)
      throws Exception {
    try (Fixture f = fixture(db)) {
      // A queue and a topic whose ids overlap, in one batch and in two: each source applies all of
      // its messages.
      List<Message> mixed =
          List.of(new Message("m1", 1), new Message("m1", 2), new Message("m2", 1));
      JdbcInbox.Batch<Message> a =
          f.inbox()
              .process(
                  mixed,
                  m -> m.amount() == 1 ? "rabbitmq:q" : "kafka:g/t",
                  Message::id,
                  f::apply,
                  null);
      assertThat(a.applied()).hasSize(3);
      JdbcInbox.Batch<Message> b =
          f.inbox()
              .process(
                  List.of(new Message("m2", 2), new Message("m2", 1)),
                  m -> m.amount() == 1 ? "rabbitmq:q" : "kafka:g/t",
                  Message::id,
                  f::apply,
                  null);
      assertThat(b.applied()).containsExactly(new Message("m2", 2));
      assertThat(b.duplicates()).containsExactly(new Message("m2", 1));

      JdbcIdempotencyStore store =
          JdbcIdempotencyStore.builder(f.pool()).table(f.effects() + "_once").build();
      JdbcInbox shared = JdbcInbox.builder(f.pool(), store).sharedScope("shared-it").build();
      JdbcInbox.Batch<Message> c =
          shared.process(
              List.of(new Message("s1", 1), new Message("s1", 2)),
              m -> m.amount() == 1 ? "rabbitmq:q" : "kafka:g/t",
              Message::id,
              f::apply,
              null);
      assertThat(c.applied()).containsExactly(new Message("s1", 1));
      assertThat(shared.process(List.of(new Message("s1", 3)), Message::id, f::apply).duplicates())
          .as("a shared scope is the name's scope, with or without a source")
          .hasSize(1);
      assertThat(f.total()).isEqualTo(5);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void anAppliedMessageLeavesACompletedMarkerKeptForTheRetention(TestDatabase db) throws Exception {
    try (Fixture f = fixture(db)) {
      JdbcInbox inbox =
          JdbcInbox.builder(
                  f.pool(),
                  JdbcIdempotencyStore.builder(f.pool()).table(f.effects() + "_once").build())
              .consumer("inbox-it")
              .retention(Duration.ofMinutes(30))
              .build();
      inbox.process(List.of(new Message("kept", 5)), Message::id, f::apply);

      // Later, by the database's clock: 29 minutes on it is still a completed record, 31 minutes on
      // it is gone.
      Duration[] offsets = {Duration.ZERO, Duration.ofMinutes(29), Duration.ofMinutes(31)};
      List<ClaimResult> answers = new ArrayList<>();
      for (Duration offset : offsets) {
        JdbcIdempotencyStore later =
            JdbcIdempotencyStore.builder(f.pool())
                .table(f.effects() + "_once")
                .clockOffset(() -> offset)
                .build();
        try (Connection c = f.pool().getConnection()) {
          answers.add(
              later
                  .onConnection(c)
                  .claim(
                      new ClaimRequest(
                          KeyPolicy.defaults().key(Scope.global("inbox-it"), "kept"),
                          Fingerprint.empty(),
                          Duration.ofMinutes(1),
                          Duration.ofMinutes(1))));
        }
      }
      assertThat(answers.get(0)).isInstanceOf(ClaimResult.Completed.class);
      assertThat(answers.get(1)).isInstanceOf(ClaimResult.Completed.class);
      assertThat(answers.get(2)).as("after the retention").isInstanceOf(ClaimResult.Acquired.class);
      assertThat(f.applied("kept")).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void anIdWhoseMarkerExpiredIsAppliedAgainAndMarkedCompletedAgain(TestDatabase db)
      throws Exception {
    try (Fixture f = fixture(db)) {
      f.inbox().process(List.of(new Message("expired", 5)), Message::id, f::apply);

      // Past the 7 days, unpurged: the claim takes the dead marker over rather than inserting one.
      JdbcIdempotencyStore later =
          JdbcIdempotencyStore.builder(f.pool())
              .table(f.effects() + "_once")
              .clockOffset(() -> Duration.ofDays(8))
              .build();
      JdbcInbox laterInbox = JdbcInbox.builder(f.pool(), later).consumer("inbox-it").build();
      assertThat(
              laterInbox
                  .process(List.of(new Message("expired", 5)), Message::id, f::apply)
                  .applied())
          .as("applied again once its marker expired")
          .hasSize(1);
      assertThat(
              laterInbox
                  .process(List.of(new Message("expired", 5)), Message::id, f::apply)
                  .applied())
          .as("the taken-over marker is completed: a redelivery is a duplicate")
          .isEmpty();
      try (Connection c = f.pool().getConnection()) {
        assertThat(
                later
                    .onConnection(c)
                    .claim(
                        new ClaimRequest(
                            KeyPolicy.defaults().key(Scope.global("inbox-it"), "expired"),
                            Fingerprint.empty(),
                            Duration.ofMinutes(1),
                            Duration.ofMinutes(1))))
            .isInstanceOf(ClaimResult.Completed.class);
      }
      assertThat(f.applied("expired")).isEqualTo(2);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void aMarkerIsKeptSevenDaysByDefaultThenThePurgerDeletesIt(TestDatabase db) throws Exception {
    try (Fixture f = fixture(db)) {
      f.inbox().process(List.of(new Message("week", 5)), Message::id, f::apply);

      int[] purged = new int[2];
      Duration[] offsets = {Duration.ofDays(7).minusMinutes(1), Duration.ofDays(7).plusMinutes(1)};
      for (int i = 0; i < offsets.length; i++) {
        Duration offset = offsets[i];
        JdbcIdempotencyStore later =
            JdbcIdempotencyStore.builder(f.pool())
                .table(f.effects() + "_once")
                .clockOffset(() -> offset)
                .build();
        purged[i] = Purger.builder(later).pause(Duration.ZERO).build().purgeOnce();
      }
      assertThat(purged[0]).as("purged a minute before 7 days").isZero();
      assertThat(purged[1]).as("purged a minute after 7 days").isEqualTo(1);
      assertThat(
              f.inbox().process(List.of(new Message("week", 5)), Message::id, f::apply).applied())
          .as("the id is new again once its marker is gone")
          .hasSize(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void aBatchHandlerGetsOnlyTheFreshMessagesInOneCall(TestDatabase db) throws Exception {
    try (Fixture f = fixture(db)) {
      f.inbox().process(List.of(new Message("b1", 1)), Message::id, f::apply);
      List<List<String>> calls = new ArrayList<>();
      JdbcInbox.Batch<Message> batch =
          f.inbox()
              .processAll(
                  List.of(
                      new Message("b1", 1),
                      new Message("b2", 2),
                      new Message("b3", 3),
                      new Message("b2", 2)),
                  Message::id,
                  (c, fresh) -> {
                    calls.add(fresh.stream().map(Message::id).toList());
                    for (Message m : fresh) {
                      f.apply(c, m);
                    }
                  },
                  null);

      assertThat(calls).containsExactly(List.of("b2", "b3"));
      assertThat(batch.applied()).extracting(Message::id).containsExactly("b2", "b3");
      assertThat(batch.duplicates()).extracting(Message::id).containsExactly("b1", "b2");
      f.inbox()
          .processAll(
              List.of(new Message("b3", 3)),
              Message::id,
              (c, fresh) -> calls.add(List.of("unexpected")),
              null);
      assertThat(calls).as("no call for a batch of duplicates").hasSize(1);
      assertThat(f.total()).isEqualTo(3);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void aFailingBatchHandlerRollsBackTheBatchAndItsMarkers(TestDatabase db) throws Exception {
    try (Fixture f = fixture(db)) {
      List<Message> batch = List.of(new Message("c1", 1), new Message("c2", -1));
      assertThatThrownBy(
              () ->
                  f.inbox()
                      .processAll(
                          batch,
                          Message::id,
                          (c, fresh) -> {
                            for (Message m : fresh) {
                              f.apply(c, m);
                            }
                          },
                          null))
          .isInstanceOfSatisfying(
              JdbcInbox.HandlerFailedException.class,
              e -> {
                assertThat(e.index()).isEqualTo(-1);
                assertThat(e.failedMessage()).isNull();
              });
      assertThat(f.total()).as("effects after the rollback").isZero();

      JdbcInbox.Batch<Message> retry =
          f.inbox().process(List.of(batch.get(0)), Message::id, f::apply);
      assertThat(retry.applied()).as("no marker survived the rollback").hasSize(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void claimsInTheCallersTransactionCommitAndRollBackWithIt(TestDatabase db) throws Exception {
    try (Fixture f = fixture(db);
        Connection c = f.pool().getConnection()) {
      c.setAutoCommit(false);
      assertThat(f.inbox().claimInTransaction(c, List.of("t1", "t2", "t1")))
          .containsExactly(true, true, false);
      f.apply(c, new Message("t1", 1));
      c.rollback();
      assertThat(f.total()).isZero();

      assertThat(f.inbox().claimInTransaction(c, List.of("t1", "t2")))
          .as("nothing kept by the rollback")
          .containsExactly(true, true);
      f.apply(c, new Message("t1", 1));
      f.apply(c, new Message("t2", 2));
      c.commit();

      assertThat(f.inbox().claimInTransaction(c, List.of("t2", "t3", "t1")))
          .containsExactly(false, true, false);
      c.commit();
      assertThat(
              f.inbox().process(List.of(new Message("t3", 3)), Message::id, f::apply).duplicates())
          .hasSize(1);
      assertThat(f.total()).isEqualTo(2);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void aFailingHandlerRollsBackTheWholeBatch(TestDatabase db) throws Exception {
    try (Fixture f = fixture(db)) {
      List<Message> batch =
          List.of(new Message("ok-1", 1), new Message("poison", -1), new Message("ok-2", 2));
      assertThatThrownBy(() -> f.inbox().process(batch, Message::id, f::apply))
          .isInstanceOfSatisfying(
              JdbcInbox.HandlerFailedException.class,
              e -> {
                assertThat(e.index()).isEqualTo(1);
                assertThat(e.failedMessage()).isEqualTo(batch.get(1));
              });
      assertThat(f.total()).as("effects after the rollback").isZero();

      JdbcInbox.Batch<Message> retry =
          f.inbox().process(List.of(batch.get(0), batch.get(2)), Message::id, f::apply);
      assertThat(retry.applied()).hasSize(2);
      assertThat(f.applied("ok-1")).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void theBatchHookCommitsWithTheBatchAndItsFailureRollsItBack(TestDatabase db) throws Exception {
    try (Fixture f = fixture(db)) {
      List<Message> batch = List.of(new Message("h-1", 1), new Message("h-2", 2));
      assertThatThrownBy(
              () ->
                  f.inbox()
                      .process(
                          batch,
                          Message::id,
                          f::apply,
                          c -> {
                            throw new IllegalStateException("hook failed");
                          }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("hook failed");
      assertThat(f.total()).as("effects after the hook failed").isZero();

      JdbcInbox.Batch<Message> done =
          f.inbox()
              .process(batch, Message::id, f::apply, c -> f.apply(c, new Message("hook-row", 0)));
      assertThat(done.applied()).hasSize(2);
      assertThat(f.total()).as("both effects and the hook's row").isEqualTo(3);
    }
  }

  static Stream<TestDatabase> racingDatabases() {
    return Stream.of(TestServers.postgres(), TestServers.mariadb(), sqlite());
  }

  /**
   * Not H2: it resolves row-lock conflicts between open transactions by lock timeouts, so consumers
   * racing over overlapping batches on H2 stay correct but crawl (minutes). SQLite runs one batch's
   * transaction at a time, and the others wait their turn for its write lock.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("racingDatabases")
  void consumersRacingOverTheSameMessagesApplyEachOnce(TestDatabase db) throws Exception {
    try (Fixture f = fixture(db)) {
      List<Message> messages = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        messages.add(new Message("msg-" + i, i));
      }
      int consumers = 4;
      CyclicBarrier start = new CyclicBarrier(consumers);
      ExecutorService pool = Executors.newFixedThreadPool(consumers);
      List<Future<Integer>> applied = new ArrayList<>();
      for (int t = 0; t < consumers; t++) {
        long seed = 42 + t;
        applied.add(
            pool.submit(
                () -> {
                  List<Message> mine = new ArrayList<>(messages);
                  Collections.shuffle(mine, new Random(seed));
                  start.await();
                  int n = 0;
                  for (int from = 0; from < mine.size(); from += 25) {
                    n +=
                        f.inbox()
                            .process(mine.subList(from, from + 25), Message::id, f::apply)
                            .applied()
                            .size();
                  }
                  return n;
                }));
      }
      int total = 0;
      for (Future<Integer> a : applied) {
        total += a.get();
      }
      pool.shutdown();
      assertThat(total).as("applications reported").isEqualTo(200);
      assertThat(f.total()).as("effects committed").isEqualTo(200);
      for (Message m : messages) {
        assertThat(f.applied(m.id())).as(m.id()).isEqualTo(1);
      }
    }
  }
}
