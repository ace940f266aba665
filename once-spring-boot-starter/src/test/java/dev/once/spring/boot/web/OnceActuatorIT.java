package dev.once.spring.boot.web;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.once.ClaimRequest;
import dev.once.ClaimResult;
import dev.once.Fingerprint;
import dev.once.IdempotencyKey;
import dev.once.IdempotencyStore;
import dev.once.Outcome;
import dev.once.Scope;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.spring.boot.OnceEndpoint;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The store's health and the {@code once} Actuator endpoint in a real application on PostgreSQL,
 * over HTTP, behind Spring Security: only an admin reaches the endpoint; a lookup shows the state
 * but no stored body and no raw key; a release frees a stuck key; a purge deletes expired records;
 * each action is logged with the key's digest and counted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OnceActuatorIT {

  static final TestDatabase DB = TestServers.postgres();

  private final String table =
      "once_act_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  private final DriverManagerDataSource direct =
      new DriverManagerDataSource(DB.jdbcUrl(), DB.user(), DB.password());
  private HttpApp app;
  private IdempotencyStore store;
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class App {
    @Bean
    SecurityFilterChain security(HttpSecurity http) throws Exception {
      return http.authorizeHttpRequests(
              requests ->
                  requests
                      .requestMatchers("/actuator/health/**")
                      .permitAll()
                      .requestMatchers("/actuator/**")
                      .hasRole("ADMIN")
                      .anyRequest()
                      .authenticated())
          .httpBasic(Customizer.withDefaults())
          .csrf(csrf -> csrf.disable())
          .build();
    }

    @Bean
    UserDetailsService users() {
      InMemoryUserDetailsManager users =
          new InMemoryUserDetailsManager(
              User.withUsername("alice").password("{noop}alice").roles("USER").build(),
              User.withUsername("admin").password("{noop}admin").roles("ADMIN").build());
      return users::loadUserByUsername;
    }
  }

  @BeforeAll
  void start() {
    Map<String, Object> p = new HashMap<>();
    p.put("spring.datasource.url", DB.jdbcUrl());
    p.put("spring.datasource.username", DB.user());
    p.put("spring.datasource.password", DB.password());
    p.put("spring.datasource.hikari.maximum-pool-size", "4");
    p.put("once.jdbc.table", table);
    p.put("once.jdbc.create-schema", "always");
    p.put("once.purge.interval", "1h"); // the test purges through the endpoint
    p.put("management.endpoints.web.exposure.include", "health,once");
    p.put("management.endpoint.once.access", "unrestricted");
    p.put("management.endpoint.health.show-components", "always");
    p.put("management.endpoint.health.show-details", "always");
    app = HttpApp.start(p, App.class);
    store = app.context.getBean(IdempotencyStore.class);
    log.start();
    ((Logger) LoggerFactory.getLogger(OnceEndpoint.class)).addAppender(log);
  }

  /** Everything the endpoint logged so far. */
  private String logged() {
    StringBuilder all = new StringBuilder();
    for (ILoggingEvent e : log.list) {
      all.append(e.getFormattedMessage()).append('\n');
    }
    return all.toString();
  }

  @AfterAll
  void stop() {
    if (app != null) {
      app.close();
    }
    JdbcTemplate jdbc = new JdbcTemplate(direct);
    jdbc.execute("DROP TABLE IF EXISTS " + table);
    jdbc.execute("DROP SEQUENCE IF EXISTS " + table + "_token_seq");
  }

  @Test
  void theStoresHealthIsUpUnderOnce() {
    HttpApp.Reply health = app.send("GET", "/actuator/health/once");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.body()).contains("\"status\":\"UP\"").contains("\"store\":\"postgresql\"");
  }

  @Test
  void onlyAnAdminReachesTheEndpoint() {
    assertThat(app.send("GET", "/actuator/once").status()).isEqualTo(401);
    assertThat(app.send("GET", "/actuator/once", "Authorization", HttpApp.basic("alice")).status())
        .isEqualTo(403);
    assertThat(
            app.send(
                    "DELETE",
                    "/actuator/once?operation=x&key=y",
                    "Authorization",
                    HttpApp.basic("alice"))
                .status())
        .isEqualTo(403);
    HttpApp.Reply summary =
        app.send("GET", "/actuator/once", "Authorization", HttpApp.basic("admin"));
    assertThat(summary.status()).isEqualTo(200);
    assertThat(summary.body())
        .contains("\"records\":{\"postgresql\":{")
        .contains("\"purgers\":{\"postgresql\":{");
  }

  @Test
  void aLookupShowsTheStateButNeitherTheBodyNorTheRawKey() {
    String tenant = "tenant-" + UUID.randomUUID();
    IdempotencyKey key = IdempotencyKey.of(Scope.of(tenant, "charge"), "order-7731");
    long token = acquired(store.claim(request(key, Duration.ofMinutes(5))));
    store.complete(
        key,
        token,
        Outcome.of(
            "application/json", "{\"card\":\"4242-secret\"}".getBytes(StandardCharsets.UTF_8)),
        Duration.ofHours(1));

    HttpApp.Reply found =
        app.send(
            "GET",
            "/actuator/once?operation=charge&key=order-7731&tenant=" + tenant,
            "Authorization",
            HttpApp.basic("admin"));

    assertThat(found.status()).isEqualTo(200);
    assertThat(found.body())
        .contains("\"found\":true", "\"state\":\"COMPLETED\"", "\"token\":" + token)
        .contains("\"bodyLength\":22", "\"key\":\"" + key.digestHex() + "\"")
        .doesNotContain("4242-secret")
        .doesNotContain("order-7731");
    assertThat(logged()).contains("inspect key " + key.digestHex()).doesNotContain("order-7731");

    HttpApp.Reply absent =
        app.send(
            "GET",
            "/actuator/once?operation=charge&key=never-used&tenant=" + tenant,
            "Authorization",
            HttpApp.basic("admin"));
    assertThat(absent.body()).contains("\"found\":false");
  }

  @Test
  void aReleaseFreesAStuckKeyAndIsLoggedHashed() {
    IdempotencyKey key = IdempotencyKey.of(Scope.of("t", "charge"), "stuck-88");
    acquired(store.claim(request(key, Duration.ofHours(1))));
    assertThat(store.claim(request(key, Duration.ofHours(1))))
        .isInstanceOf(ClaimResult.InProgress.class);

    HttpApp.Reply released =
        app.send(
            "DELETE",
            "/actuator/once?operation=charge&key=stuck-88&tenant=t",
            "Authorization",
            HttpApp.basic("admin"));

    assertThat(released.status()).isEqualTo(200);
    assertThat(released.body()).contains("\"released\":true");
    assertThat(store.claim(request(key, Duration.ofHours(1))))
        .isInstanceOf(ClaimResult.Acquired.class);
    assertThat(logged()).contains("release of key " + key.digestHex()).doesNotContain("stuck-88");
  }

  @Test
  void aBadKeyIsABadRequest() {
    HttpApp.Reply bad =
        app.send("GET", "/actuator/once?operation=charge", "Authorization", HttpApp.basic("admin"));
    assertThat(bad.status()).isEqualTo(400);
  }

  @Test
  void aPurgeDeletesExpiredRecordsAndEveryActionIsCounted() {
    IdempotencyStore twoDaysAgo =
        JdbcIdempotencyStore.builder(direct)
            .table(table)
            .clockOffset(() -> Duration.ofDays(-2))
            .build();
    Scope scope = Scope.of("t", "old-" + UUID.randomUUID());
    for (int i = 0; i < 5; i++) {
      IdempotencyKey k = IdempotencyKey.of(scope, "old-" + i);
      twoDaysAgo.complete(
          k,
          acquired(twoDaysAgo.claim(request(k, Duration.ofMinutes(1)))),
          Outcome.empty(),
          Duration.ofHours(1));
    }
    HttpApp.Reply before =
        app.send("GET", "/actuator/once", "Authorization", HttpApp.basic("admin"));
    assertThat(before.body()).contains("\"expired\":5");

    HttpApp.Reply purged =
        app.send("POST", "/actuator/once", "Authorization", HttpApp.basic("admin"));

    assertThat(purged.status()).isEqualTo(200);
    assertThat(purged.body()).contains("\"deleted\":{\"postgresql\":5}");
    HttpApp.Reply after =
        app.send("GET", "/actuator/once", "Authorization", HttpApp.basic("admin"));
    assertThat(after.body()).contains("\"expired\":0").contains("\"purge\":1");
  }

  private static ClaimRequest request(IdempotencyKey key, Duration lease) {
    return new ClaimRequest(key, Fingerprint.empty(), lease, Duration.ofHours(1));
  }

  private static long acquired(ClaimResult result) {
    assertThat(result).isInstanceOf(ClaimResult.Acquired.class);
    return ((ClaimResult.Acquired) result).token();
  }
}
