package dev.once.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.once.jdbc.SqlDialect;
import dev.once.testkit.EffectChecker;
import dev.once.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The outbox on one real database: every test gets a table of its own, so relays of one test never
 * see another's rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OutboxTestBase {

  /** JDBC URL, user and password of the database under test. */
  protected abstract String[] connection();

  /** How many messages the race writes; SQLite, with one writer at a time, gets fewer. */
  protected int raceMessages() {
    return 3000;
  }

  protected HikariDataSource pool;
  protected String table;
  protected Outbox outbox;
  protected SqlDialect dialect;
  protected final RecordingPublisher publisher = new RecordingPublisher();
  protected final MutableClock clock =
      MutableClock.startingAt(Instant.parse("2026-01-01T00:00:00Z"));
  private final List<OutboxRelay> relays = new CopyOnWriteArrayList<>();

  @BeforeAll
  void startPool() throws SQLException {
    String[] c = connection();
    pool = pool(c[0], c[1], c[2], 30, 10_000);
    try (Connection conn = pool.getConnection()) {
      dialect = SqlDialect.detect(conn);
    }
  }

  @AfterAll
  void stopPool() {
    pool.close();
  }

  @BeforeEach
  void newTable() throws SQLException {
    table = "outbox_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    outbox = Outbox.builder().table(table).build();
    try (Connection c = pool.getConnection()) {
      outbox.createSchema(c);
      outbox.createSchema(c); // idempotent
    }
    publisher.published.clear();
    publisher.overlapping.clear();
    publisher.refuse = m -> null;
    publisher.failing = null;
  }

  @AfterEach
  void dropTable() throws SQLException {
    for (OutboxRelay relay : relays) {
      relay.close();
    }
    relays.clear();
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE " + table);
    }
  }

  protected HikariDataSource pool(
      String url, String user, String password, int size, long connectionTimeoutMs) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(0);
    config.setConnectionTimeout(connectionTimeoutMs);
    config.setValidationTimeout(250);
    config.setInitializationFailTimeout(-1);
    return new HikariDataSource(config);
  }

  protected OutboxRelay.Builder relay() {
    return OutboxRelay.builder(pool, publisher)
        .table(table)
        .clock(clock)
        .backoff(Duration.ofSeconds(1), Duration.ofSeconds(1));
  }

  protected OutboxRelay started(OutboxRelay relay) {
    relays.add(relay);
    relay.start();
    return relay;
  }

  /** Writes messages in one committed transaction. */
  protected List<UUID> write(List<OutboxEntry> entries) throws SQLException {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      List<UUID> ids = outbox.enqueueAll(c, entries);
      c.commit();
      return ids;
    }
  }

  protected UUID write(String key, String body) throws SQLException {
    return write(List.of(new OutboxEntry("orders", key, bytes(body)))).get(0);
  }

  protected static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Relays until a batch finds nothing due. */
  protected void drain(OutboxRelay relay) throws InterruptedException {
    for (int i = 0; i < 10_000 && relay.relayOnce().claimed() > 0; i++) {
      // each round relays one batch
    }
  }

  protected Map<String, Long> states() throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT state, COUNT(*) FROM " + table + " GROUP BY state")) {
      Map<String, Long> states = new HashMap<>();
      while (rs.next()) {
        states.put(rs.getString(1).trim(), rs.getLong(2));
      }
      return states;
    }
  }

  /** attempts, state, last_error of the row with this body. */
  protected Object[] row(String body) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT attempts, state, last_error, payload FROM " + table)) {
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          if (new String(rs.getBytes(4), StandardCharsets.UTF_8).equals(body)) {
            return new Object[] {rs.getInt(1), rs.getString(2).trim(), rs.getString(3)};
          }
        }
      }
    }
    throw new AssertionError("no row with body " + body);
  }

  private static List<String> bodies(List<OutboxMessage> messages) {
    return messages.stream()
        .map(m -> new String(m.payload(), StandardCharsets.UTF_8))
        .collect(Collectors.toList());
  }

  @Test
  void aRolledBackWriteLeavesNothingToRelay() throws Exception {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      outbox.enqueue(c, "orders", "k", bytes("never"));
      c.rollback();
    }
    OutboxRelay relay = relay().build();

    assertThat(relay.relayOnce()).isEqualTo(RelayResult.EMPTY);
    assertThat(publisher.published).isEmpty();
    assertThat(states()).isEmpty();
  }

  @Test
  void aCommittedMessageIsRelayedOnceWithEverythingItWasWrittenWith() throws Exception {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("trace", "abc");
    headers.put("ключ", "значение");
    UUID id =
        write(List.of(new OutboxEntry("orders.v1", "order-7", bytes("{\"n\":1}"), headers))).get(0);
    OutboxRelay relay = relay().build();

    RelayResult first = relay.relayOnce();
    RelayResult second = relay.relayOnce();

    assertThat(first).isEqualTo(new RelayResult(1, 1, 1, 0, 0, 0));
    assertThat(second).isEqualTo(RelayResult.EMPTY);
    assertThat(publisher.published).hasSize(1);
    OutboxMessage m = publisher.published.get(0);
    assertThat(m.id()).isEqualTo(id);
    assertThat(m.id().version()).isEqualTo(7);
    assertThat(m.destination()).isEqualTo("orders.v1");
    assertThat(m.key()).isEqualTo("order-7");
    assertThat(m.payload()).isEqualTo(bytes("{\"n\":1}"));
    assertThat(m.headers()).isEqualTo(headers);
    assertThat(states()).containsExactly(Map.entry("S", 1L));
  }

  @Test
  void messagesWithoutKeyOrHeadersAndABatchWriteAreRelayedInWriteOrder() throws Exception {
    List<OutboxEntry> entries = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      entries.add(new OutboxEntry("events", null, bytes("m" + i)));
    }
    List<UUID> ids = write(entries);
    OutboxRelay relay = relay().batchSize(10).build();

    drain(relay);

    assertThat(publisher.ids()).containsExactlyElementsOf(ids);
    assertThat(publisher.published).allSatisfy(m -> assertThat(m.key()).isNull());
  }

  @Test
  void eachKeysMessagesArePublishedInWriteOrderWhenKeysInterleave() throws Exception {
    Random random = new Random(42);
    System.out.println("[outbox] interleaved keys, seed 42");
    Map<String, List<String>> written = new LinkedHashMap<>();
    for (int tx = 0; tx < 30; tx++) {
      List<OutboxEntry> entries = new ArrayList<>();
      for (int i = 0; i < 1 + random.nextInt(4); i++) {
        String key = "k" + random.nextInt(4);
        String body = key + "-" + written.computeIfAbsent(key, k -> new ArrayList<>()).size();
        written.get(key).add(body);
        entries.add(new OutboxEntry("orders", key, bytes(body)));
      }
      write(entries);
    }
    OutboxRelay relay = relay().batchSize(7).build();

    drain(relay);

    Map<String, List<String>> published = new LinkedHashMap<>();
    for (OutboxMessage m : publisher.published) {
      published
          .computeIfAbsent(m.key(), k -> new ArrayList<>())
          .add(new String(m.payload(), StandardCharsets.UTF_8));
    }
    assertThat(published).isEqualTo(written);
  }

  @Test
  void aRefusedMessageIsRetriedAfterItsBackoffThenParkedWhileOtherKeysFlowAndItsKeyWaits()
      throws Exception {
    Exception no = new IllegalStateException("broker says no");
    write("bad", "bad-1");
    write("good", "good-1");
    write("bad", "bad-2");
    publisher.refuse =
        m -> new String(m.payload(), StandardCharsets.UTF_8).equals("bad-1") ? no : null;
    OutboxRelay relay = relay().maxAttempts(3).build();

    // Round 1: bad-1 refused, bad-2 published with it but held back, good-1 sent.
    assertThat(relay.relayOnce()).isEqualTo(new RelayResult(3, 3, 1, 1, 0, 1));
    assertThat(row("bad-1")).containsExactly(1, "P", no.toString());
    assertThat(row("bad-2")).containsExactly(0, "P", null);
    assertThat(row("good-1")[1]).isEqualTo("S");

    // Not due yet: bad-1 waits out its backoff, and bad-2 waits behind it; a new key flows.
    write("other", "other-1");
    assertThat(relay.relayOnce()).isEqualTo(new RelayResult(1, 1, 1, 0, 0, 0));
    assertThat(bodies(publisher.published)).containsExactly("bad-1", "good-1", "bad-2", "other-1");

    clock.advance(Duration.ofSeconds(2));
    assertThat(relay.relayOnce()).isEqualTo(new RelayResult(2, 2, 0, 1, 0, 1));
    assertThat(row("bad-1")).containsExactly(2, "P", no.toString());

    clock.advance(Duration.ofSeconds(2));
    assertThat(relay.relayOnce()).isEqualTo(new RelayResult(2, 2, 0, 0, 1, 1));
    assertThat(row("bad-1")).containsExactly(3, "X", no.toString());

    // Parked: its key's next message goes out.
    assertThat(relay.relayOnce()).isEqualTo(new RelayResult(1, 1, 1, 0, 0, 0));
    assertThat(row("bad-2")[1]).isEqualTo("S");
    assertThat(states()).containsOnly(Map.entry("S", 3L), Map.entry("X", 1L));
  }

  @Test
  void aParkedMessageRetriedIsPublishedAgainAndOnlyParkedOnesAreRetried() throws Exception {
    UUID parked = write("k", "p");
    UUID sent = write("j", "s");
    publisher.refuse = m -> m.id().equals(parked) ? new IllegalStateException("no") : null;
    OutboxRelay relay = relay().maxAttempts(1).build();
    assertThat(relay.relayOnce()).isEqualTo(new RelayResult(2, 2, 1, 0, 1, 0));
    assertThat(relay.relayOnce()).isEqualTo(RelayResult.EMPTY);

    publisher.refuse = m -> null;
    assertThat(relay.retryParked(List.of(parked, sent, UUID.randomUUID()))).isEqualTo(1);
    assertThat(row("p")).containsExactly(0, "P", "java.lang.IllegalStateException: no");
    assertThat(relay.relayOnce()).isEqualTo(new RelayResult(1, 1, 1, 0, 0, 0));

    assertThat(publisher.count(parked)).isEqualTo(2);
    assertThat(publisher.count(sent)).isEqualTo(1);
    assertThat(relay.retryAllParked()).isZero();
    assertThat(states()).containsExactly(Map.entry("S", 2L));
  }

  @Test
  void retryAllParkedMakesEveryParkedMessagePending() throws Exception {
    write("a", "a");
    write("b", "b");
    publisher.refuse = m -> new IllegalStateException("no");
    OutboxRelay relay = relay().maxAttempts(1).build();
    relay.relayOnce();
    assertThat(states()).containsExactly(Map.entry("X", 2L));

    assertThat(relay.retryAllParked()).isEqualTo(2);

    assertThat(states()).containsExactly(Map.entry("P", 2L));
  }

  @Test
  void aPublisherThatThrowsSpendsNoAttemptAndTheBatchIsRelayedLater() throws Exception {
    UUID id = write("k", "x");
    publisher.failing = new IllegalStateException("broker unreachable");
    OutboxRelay relay = relay().maxAttempts(1).build();

    assertThatThrownBy(relay::relayOnce)
        .isInstanceOf(OutboxException.class)
        .hasRootCauseMessage("broker unreachable");
    assertThat(row("x")).containsExactly(0, "P", null);

    publisher.failing = null;
    assertThat(relay.relayOnce().sent()).isEqualTo(1);
    assertThat(publisher.ids()).containsExactly(id);
  }

  @Test
  void retentionDeletesOnlySentRowsOlderThanItInBoundedBatches() throws Exception {
    for (int i = 0; i < 7; i++) {
      write("k" + i, "old-" + i);
    }
    UUID parked = write("p", "parked");
    publisher.refuse = m -> m.id().equals(parked) ? new IllegalStateException("no") : null;
    OutboxRelay relay =
        relay()
            .maxAttempts(1)
            .retention(Duration.ofHours(1))
            .purge(2, Duration.ZERO, Duration.ZERO)
            .build();
    drain(relay);
    clock.advance(Duration.ofHours(2));
    write("new", "recent-sent");
    drain(relay);
    write("new", "pending");

    assertThat(relay.purgeSent()).isEqualTo(7);

    assertThat(states()).containsOnly(Map.entry("S", 1L), Map.entry("X", 1L), Map.entry("P", 1L));
    assertThat(relay.purgeSent()).isZero();
  }

  @Test
  void atRetentionZeroASentRowIsDeletedInItsRoundAndARefusedOneStays() throws Exception {
    UUID first = write("a", "first");
    UUID refused = write("b", "refused");
    UUID second = write("a", "second");
    publisher.refuse = m -> m.id().equals(refused) ? new IllegalStateException("no") : null;
    OutboxRelay relay = relay().maxAttempts(1).retention(Duration.ZERO).build();

    RelayResult result = relay.relayOnce();

    assertThat(result.sent()).isEqualTo(2);
    assertThat(result.parked()).isEqualTo(1);
    assertThat(publisher.ids()).containsExactly(first, refused, second);
    assertThat(states()).containsOnly(Map.entry("X", 1L));
    assertThat(relay.retryParked(List.of(refused))).isEqualTo(1);
    publisher.refuse = m -> null;
    assertThat(relay.relayOnce().sent()).isEqualTo(1);
    assertThat(states()).isEmpty();
  }

  @Test
  void theBacklogCountsPendingAndParkedRowsAndDatesTheOldestPendingOne() throws Exception {
    OutboxRelay relay = relay().maxAttempts(1).build();
    assertThat(relay.backlog()).isEqualTo(new OutboxBacklog(0, 0, null));
    UUID refused = write("b", "refused");
    write("a", "sent");
    publisher.refuse = m -> m.id().equals(refused) ? new IllegalStateException("no") : null;
    relay.relayOnce();
    long before = System.currentTimeMillis();
    write("c", "pending 1");
    write("d", "pending 2");

    OutboxBacklog backlog = relay.backlog();

    assertThat(backlog.pending()).isEqualTo(2);
    assertThat(backlog.parked()).isEqualTo(1);
    assertThat(backlog.oldestPending()).isNotNull();
    assertThat(java.util.Objects.requireNonNull(backlog.oldestPending()).toEpochMilli())
        .as("the first pending write's created_at, by the writer's clock")
        .isBetween(before, System.currentTimeMillis());
  }

  @Test
  void aWriteOutsideATransactionIsRefusedAndWritesNothing() throws Exception {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(true);
      assertThatThrownBy(() -> outbox.enqueue(c, "orders", "k", bytes("x")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("auto-commit");
    }
    assertThat(states()).isEmpty();
  }

  @Test
  void aBadEntryInABatchIsRefusedBeforeAnythingIsWritten() throws Exception {
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      List<OutboxEntry> entries = new ArrayList<>();
      entries.add(new OutboxEntry("orders", "k", bytes("ok")));
      entries.add(null);
      assertThatThrownBy(() -> outbox.enqueueAll(c, entries))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("entry 1 is null");
      c.commit();
    }
    assertThat(states()).isEmpty();
    assertThatThrownBy(() -> Outbox.builder().table("orders; DROP TABLE x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("plain SQL identifier");
  }

  @Test
  void relaysRacingOverConcurrentWritersPublishEveryCommittedMessageOnceInKeyOrder()
      throws Exception {
    long seed = System.nanoTime();
    System.out.println("[outbox] race on " + dialect + ", seed " + seed);
    Random seeds = new Random(seed);
    int writers = 4;
    int perWriter = raceMessages() / writers;
    List<String> committed = new CopyOnWriteArrayList<>();
    List<String> rolledBack = new CopyOnWriteArrayList<>();
    Map<String, List<String>> writtenByKey = new ConcurrentHashMap<>();
    for (int r = 0; r < 4; r++) {
      started(
          relay()
              .clock(java.time.Clock.systemUTC())
              .name("race-" + r)
              .batchSize(1 + seeds.nextInt(40))
              .pollInterval(Duration.ofMillis(20))
              .build());
    }
    ExecutorService writerThreads = Executors.newFixedThreadPool(writers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        Random random = new Random(seeds.nextLong());
        done.add(
            writerThreads.submit(
                () -> {
                  int n = 0;
                  while (n < perWriter) {
                    List<OutboxEntry> entries = new ArrayList<>();
                    List<String[]> keyed = new ArrayList<>();
                    for (int i = 0; i < 1 + random.nextInt(5) && n < perWriter; i++, n++) {
                      String key =
                          random.nextInt(10) == 0 ? null : "w" + writer + "-" + random.nextInt(6);
                      String body = "w" + writer + "-" + n;
                      entries.add(new OutboxEntry("orders", key, bytes(body)));
                      keyed.add(new String[] {key, body});
                    }
                    boolean commit = random.nextInt(10) != 0;
                    try (Connection c = pool.getConnection()) {
                      c.setAutoCommit(false);
                      outbox.enqueueAll(c, entries);
                      if (commit) {
                        c.commit();
                      } else {
                        c.rollback();
                      }
                    }
                    for (String[] kb : keyed) {
                      (commit ? committed : rolledBack).add(kb[1]);
                      if (commit && kb[0] != null) {
                        writtenByKey
                            .computeIfAbsent(kb[0], k -> new CopyOnWriteArrayList<>())
                            .add(kb[1]);
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(5, TimeUnit.MINUTES);
      }
    } finally {
      writerThreads.shutdownNow();
    }

    await()
        .atMost(Duration.ofMinutes(3))
        .until(() -> !states().containsKey("P") && publisher.published.size() >= committed.size());

    Map<String, Long> publications = new HashMap<>();
    Map<String, List<String>> firstByKey = new HashMap<>();
    for (OutboxMessage m : publisher.published) {
      String body = new String(m.payload(), StandardCharsets.UTF_8);
      if (publications.merge(body, 1L, Long::sum) == 1 && m.key() != null) {
        firstByKey.computeIfAbsent(m.key(), k -> new ArrayList<>()).add(body);
      }
    }
    EffectChecker.Verdict verdict = EffectChecker.check(committed, publications);
    System.out.println(
        "[outbox] race on "
            + dialect
            + ", seed "
            + seed
            + ": "
            + verdict
            + " (rolled back "
            + rolledBack.size()
            + ")");
    verdict.assertExactlyOnce("seed " + seed);
    assertThat(publisher.overlapping).as("published while another relay held it").isEmpty();
    assertThat(firstByKey).as("per-key order, seed " + seed).isEqualTo(writtenByKey);
  }
}
