package dev.once.spring.boot.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.once.redis.RedisIdempotencyStore;
import dev.once.spring.boot.Idempotent;
import dev.once.spring.boot.web.HttpApp.Reply;
import dev.once.testkit.servers.TcpProxy;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestRedis;
import dev.once.testkit.servers.TestServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * Item 2 of issue 9: one application in atomic mode with two routes, one on the default JDBC store
 * (PostgreSQL, the transaction's DataSource) and one on a Redis store ({@code @Idempotent(store =
 * "redisStore")}). Both write their effect to PostgreSQL. Only the JDBC route can share the
 * transaction, so only it is atomic; the Redis route runs in lease mode and must answer as lease
 * mode does: when its completion fails after the effect committed, the client gets the handler's
 * response, never "not processed, retry" (a retry after the lease would run it again).
 *
 * <p>Both the application's DataSource and its Redis store connect through the test kit's {@link
 * TcpProxy}, which a handler cuts after its write (header {@code X-Cut-After-Write}) so that the
 * completion fails for real.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MixedStoresIT {

  static final TestDatabase DB = TestServers.postgres();
  static final TestRedis REDIS = TestServers.redis();
  static final String CUT = "X-Cut-After-Write";

  /** Reached by the handlers, which cut them after their write. */
  static TcpProxy databaseProxy;

  static TcpProxy redisProxy;

  private final String prefix =
      "once_mix_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  private final String redisPrefix = "once-it:" + prefix + ":";
  private final JdbcTemplate direct =
      new JdbcTemplate(new DriverManagerDataSource(DB.jdbcUrl(), DB.user(), DB.password()));
  private RedisClient redisClient;
  private StatefulRedisConnection<String, String> redis;
  private HttpApp app;

  record Order(String id, int cents) {}

  @RestController
  static class Orders {
    private final JdbcTemplate jdbc;
    private final String table;

    Orders(JdbcTemplate jdbc, @Value("${test.orders}") String table) {
      this.jdbc = jdbc;
      this.table = table;
    }

    @PostMapping("/atomic/orders")
    @Idempotent
    ResponseEntity<Map<String, Object>> atomic(
        @RequestBody Order order, @RequestHeader(name = CUT, required = false) String cut) {
      return place(order, cut);
    }

    @PostMapping("/redis/orders")
    @Idempotent(store = "redisStore")
    ResponseEntity<Map<String, Object>> onRedis(
        @RequestBody Order order, @RequestHeader(name = CUT, required = false) String cut) {
      return place(order, cut);
    }

    private ResponseEntity<Map<String, Object>> place(Order order, String cut) {
      jdbc.update(
          "INSERT INTO " + table + " (order_id, cents) VALUES (?, ?)", order.id(), order.cents());
      boolean inTransaction = TransactionSynchronizationManager.isActualTransactionActive();
      if ("database".equals(cut)) {
        databaseProxy.cut();
      } else if ("redis".equals(cut)) {
        redisProxy.cut();
      }
      return ResponseEntity.created(URI.create("/orders/" + order.id()))
          .body(Map.of("order", order.id(), "inTransaction", inTransaction));
    }
  }

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  @Import(Orders.class)
  static class App {
    /**
     * A per-route store; not a default candidate, so the JDBC store stays the application's store.
     */
    @Bean(defaultCandidate = false, destroyMethod = "close")
    RedisIdempotencyStore redisStore(
        @Value("${test.redis-url}") String url, @Value("${test.redis-prefix}") String keyPrefix) {
      return RedisIdempotencyStore.builder(RedisURI.create(url))
          .keyPrefix(keyPrefix)
          .commandTimeout(Duration.ofSeconds(1))
          .build();
    }

    @Bean
    SecurityFilterChain api(HttpSecurity http) throws Exception {
      return http.authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
          .httpBasic(Customizer.withDefaults())
          .csrf(csrf -> csrf.disable())
          .sessionManagement(
              session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
          .build();
    }

    @Bean
    UserDetailsService users() {
      InMemoryUserDetailsManager users =
          new InMemoryUserDetailsManager(
              User.withUsername("alice").password("{noop}alice").roles("USER").build());
      return users::loadUserByUsername;
    }
  }

  @BeforeAll
  void start() {
    direct.execute(
        "CREATE TABLE "
            + orders()
            + " (id BIGSERIAL PRIMARY KEY, order_id VARCHAR(100) NOT NULL,"
            + " cents INT NOT NULL)");
    databaseProxy = TcpProxy.start(DB.host(), DB.port());
    redisProxy = TcpProxy.start(REDIS.host(), REDIS.port());
    redisClient = RedisClient.create(REDIS.uri());
    redis = redisClient.connect();
    Map<String, Object> p = new HashMap<>();
    p.put("spring.datasource.url", DB.withAddress("127.0.0.1", databaseProxy.port()).jdbcUrl());
    p.put("spring.datasource.username", DB.user());
    p.put("spring.datasource.password", DB.password());
    p.put("spring.datasource.hikari.maximum-pool-size", "2");
    p.put("once.jdbc.table", onceTable());
    p.put("once.jdbc.create-schema", "always");
    p.put("test.orders", orders());
    p.put("test.redis-url", "redis://127.0.0.1:" + redisProxy.port());
    p.put("test.redis-prefix", redisPrefix);
    app = HttpApp.start(p, App.class);
  }

  @AfterAll
  void stop() {
    if (app != null) {
      app.close();
    }
    databaseProxy.close();
    redisProxy.close();
    List<String> keys = redis.sync().keys(redisPrefix + "*");
    if (!keys.isEmpty()) {
      redis.sync().del(keys.toArray(String[]::new));
    }
    redis.close();
    redisClient.shutdown();
    direct.execute("DROP TABLE IF EXISTS " + orders());
    direct.execute("DROP TABLE IF EXISTS " + onceTable());
    direct.execute("DROP SEQUENCE IF EXISTS " + onceTable() + "_token_seq");
  }

  private String orders() {
    return prefix + "_orders";
  }

  private String onceTable() {
    return prefix + "_once";
  }

  private long placed(String orderId) {
    return direct.queryForObject(
        "SELECT COUNT(*) FROM " + orders() + " WHERE order_id = ?", Long.class, orderId);
  }

  private long jdbcRecords() {
    return direct.queryForObject("SELECT COUNT(*) FROM " + onceTable(), Long.class);
  }

  private long redisRecords() {
    return redis.sync().keys(redisPrefix + "*").size();
  }

  private Reply post(String path, String key, String orderId, String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "Authorization";
    all[1] = HttpApp.basic("alice");
    System.arraycopy(headers, 0, all, 2, headers.length);
    return app.post(path, key, "{\"id\":\"" + orderId + "\",\"cents\":1250}", all);
  }

  @Test
  void theJdbcRouteRunsInTheTransactionAndTheRedisRouteOnItsOwnStore() {
    long jdbcBefore = jdbcRecords();
    long redisBefore = redisRecords();
    String atomicOrder = "a-" + UUID.randomUUID();
    String redisOrder = "r-" + UUID.randomUUID();

    Reply atomic = post("/atomic/orders", UUID.randomUUID().toString(), atomicOrder);
    String redisKey = UUID.randomUUID().toString();
    Reply onRedis = post("/redis/orders", redisKey, redisOrder);
    Reply redisRetry = post("/redis/orders", redisKey, redisOrder);

    assertThat(atomic.status()).as(atomic.toString()).isEqualTo(201);
    assertThat(atomic.body()).contains("\"inTransaction\":true");
    assertThat(onRedis.status()).as(onRedis.toString()).isEqualTo(201);
    assertThat(onRedis.body()).contains("\"inTransaction\":false");
    assertThat(redisRetry.replayed()).as(redisRetry.toString()).isTrue();
    assertThat(placed(atomicOrder)).isEqualTo(1);
    assertThat(placed(redisOrder)).isEqualTo(1);
    assertThat(jdbcRecords()).as("the JDBC route's record only").isEqualTo(jdbcBefore + 1);
    assertThat(redisRecords()).as("the Redis route's record only").isGreaterThan(redisBefore);
  }

  @Test
  void
      aRedisRouteWhoseCompletionFailsAfterItsEffectCommittedAnswersWithTheResultNotWithNotProcessed() {
    String key = UUID.randomUUID().toString();
    String order = "r-" + UUID.randomUUID();

    Reply first = post("/redis/orders", key, order, CUT, "redis");
    redisProxy.restore();

    assertThat(placed(order)).as("the effect committed on its own").isEqualTo(1);
    assertThat(first.status())
        .as("the truth: processed (not replayable), never 503 'not processed, retry': " + first)
        .isEqualTo(201);
    assertThat(first.body()).contains(order);

    // The record stays in progress (or completed, should the store have written it after all): a
    // retry is never
    // a second execution.
    Reply retry =
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> post("/redis/orders", key, order), r -> r.status() != 503);
    assertThat(retry.status() == 409 || retry.replayed()).as(retry.toString()).isTrue();
    assertThat(placed(order)).isEqualTo(1);
  }

  @Test
  void anAtomicRouteWhoseCompletionFailsKeepsNothingAndSaysSo() {
    String key = UUID.randomUUID().toString();
    String order = "a-" + UUID.randomUUID();

    Reply first = post("/atomic/orders", key, order, CUT, "database");
    databaseProxy.restore();
    // The pool's connections died with the cut: start the next requests on fresh ones.
    app.context.getBean(HikariDataSource.class).getHikariPoolMXBean().softEvictConnections();

    assertThat(first.status()).as("the truth: not processed, retry: " + first).isEqualTo(503);
    assertThat(placed(order)).as("the effect rolled back with the record").isZero();

    Reply retry =
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () -> post("/atomic/orders", key, order),
                r -> r.status() != 503 && r.status() != 409);
    assertThat(retry.status()).as(retry.toString()).isEqualTo(201);
    assertThat(retry.replayed()).isFalse();
    assertThat(placed(order)).isEqualTo(1);
  }
}
