package dev.once.spring.boot.purge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.jdbc.TableLayout;
import dev.once.spring.boot.OnceJdbcAutoConfiguration;
import dev.once.spring.boot.OncePurgeAutoConfiguration;
import dev.once.spring.boot.OncePurgers;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The starter's purger on a real PostgreSQL: records whose retention ended disappear from the table
 * on their own, a record within its retention and a claim with a live lease stay.
 */
class PostgresPurgeIT {

  private static final TestDatabase DB = TestServers.postgres();

  private final String table =
      "once_purge_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  private final DriverManagerDataSource direct =
      new DriverManagerDataSource(DB.jdbcUrl(), DB.user(), DB.password());

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  DataSourceAutoConfiguration.class,
                  OnceJdbcAutoConfiguration.class,
                  OncePurgeAutoConfiguration.class))
          .withPropertyValues(
              "spring.datasource.url=" + DB.jdbcUrl(),
              "spring.datasource.username=" + DB.user(),
              "spring.datasource.password=" + DB.password(),
              "once.jdbc.table=" + table,
              "once.jdbc.create-schema=always",
              "once.purge.interval=100ms",
              "once.purge.batch-size=7",
              "once.purge.pause=0s");

  @AfterEach
  void dropTable() {
    JdbcTemplate jdbc = new JdbcTemplate(direct);
    jdbc.execute("DROP TABLE IF EXISTS " + table);
    jdbc.execute("DROP SEQUENCE IF EXISTS " + table + "_token_seq");
    for (String function : new String[] {"_claim", "_add_partitions", "_drop_expired"}) {
      jdbc.execute("DROP FUNCTION IF EXISTS " + table + function);
    }
  }

  @Test
  void onAPartitionedTableExpiredPartitionsAreDroppedOnTheirOwn() {
    // Written as if two days ago, into the partitions a store of that day created ahead: their
    // hour of retention, and the whole day-wide partition it ended in, have passed.
    JdbcIdempotencyStore twoDaysAgo =
        JdbcIdempotencyStore.builder(direct)
            .table(table)
            .layout(TableLayout.PARTITIONED)
            .clockOffset(() -> Duration.ofDays(-2))
            .createSchema(true)
            .build();
    Scope scope = Scope.of("tenant", "charge");
    for (int i = 0; i < 30; i++) {
      IdempotencyKey key = IdempotencyKey.of(scope, "old-" + i);
      long token = acquired(twoDaysAgo.claim(request(key, Duration.ofMinutes(1))));
      twoDaysAgo.complete(key, token, Outcome.empty(), Duration.ofHours(1));
    }
    JdbcTemplate jdbc = new JdbcTemplate(direct);
    String partitionsOfTheOldRecords =
        "SELECT COUNT(DISTINCT tableoid) FROM "
            + table
            + " WHERE tableoid <> '"
            + table
            + "_default'::regclass";
    assertThat(jdbc.queryForObject(partitionsOfTheOldRecords, Long.class)).isPositive();

    runner
        .withPropertyValues("once.jdbc.layout=partitioned")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              JdbcIdempotencyStore store = context.getBean(JdbcIdempotencyStore.class);
              assertThat(store.layout()).isEqualTo(TableLayout.PARTITIONED);
              IdempotencyKey recent = IdempotencyKey.of(scope, "recent");
              store.complete(
                  recent,
                  acquired(store.claim(request(recent, Duration.ofMinutes(1)))),
                  Outcome.empty(),
                  Duration.ofHours(1));
              await()
                  .atMost(Duration.ofSeconds(30))
                  .untilAsserted(
                      () ->
                          assertThat(
                                  jdbc.queryForObject("SELECT COUNT(*) FROM " + table, Long.class))
                              .isEqualTo(1));
              assertThat(store.claim(request(recent, Duration.ofMinutes(1))))
                  .isInstanceOf(ClaimResult.Completed.class);
              assertThat(context.getBean(OncePurgers.class).purgers().get(0).progress().deleted())
                  .as("rows of the dropped partitions")
                  .isEqualTo(30);
            });
  }

  @Test
  void expiredRecordsDisappearOnTheirOwnAndLiveOnesStay() {
    // Written before the application starts (its purger would delete them between claim and
    // completion), as if two days ago: their hour of retention ended long since.
    IdempotencyStore twoDaysAgo =
        JdbcIdempotencyStore.builder(direct)
            .table(table)
            .clockOffset(() -> Duration.ofDays(-2))
            .createSchema(true)
            .build();
    Scope scope = Scope.of("tenant", "charge");
    for (int i = 0; i < 30; i++) {
      IdempotencyKey key = IdempotencyKey.of(scope, "old-" + i);
      long token = acquired(twoDaysAgo.claim(request(key, Duration.ofMinutes(1))));
      twoDaysAgo.complete(key, token, Outcome.empty(), Duration.ofHours(1));
    }
    // A claim older than its retention whose lease (a heartbeat renews it) is still live.
    IdempotencyStore anHourAgo =
        JdbcIdempotencyStore.builder(direct)
            .table(table)
            .clockOffset(() -> Duration.ofHours(-1))
            .build();
    IdempotencyKey held = IdempotencyKey.of(scope, "held");
    acquired(
        anHourAgo.claim(
            new ClaimRequest(
                held, Fingerprint.empty(), Duration.ofHours(3), Duration.ofMinutes(1))));

    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          IdempotencyStore store = context.getBean(IdempotencyStore.class);
          IdempotencyKey recent = IdempotencyKey.of(scope, "recent");
          store.complete(
              recent,
              acquired(store.claim(request(recent, Duration.ofMinutes(1)))),
              Outcome.empty(),
              Duration.ofHours(1));
          JdbcTemplate jdbc = new JdbcTemplate(direct);
          await()
              .atMost(Duration.ofSeconds(30))
              .untilAsserted(
                  () ->
                      assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM " + table, Long.class))
                          .isEqualTo(2));
          assertThat(
                  store.claim(
                      new ClaimRequest(
                          held, Fingerprint.empty(), Duration.ofHours(3), Duration.ofMinutes(1))))
              .isInstanceOf(ClaimResult.InProgress.class);
          assertThat(store.claim(request(recent, Duration.ofMinutes(1))))
              .isInstanceOf(ClaimResult.Completed.class);
          assertThat(context.getBean(OncePurgers.class).purgers().get(0).progress().deleted())
              .isEqualTo(30);
        });
  }

  private static ClaimRequest request(IdempotencyKey key, Duration lease) {
    return new ClaimRequest(key, Fingerprint.empty(), lease, Duration.ofHours(1));
  }

  private static long acquired(ClaimResult result) {
    assertThat(result).isInstanceOf(ClaimResult.Acquired.class);
    return ((ClaimResult.Acquired) result).token();
  }
}
