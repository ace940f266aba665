package dev.once.spring.boot.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.once.spring.boot.Idempotent;
import dev.once.spring.boot.web.HttpApp.Reply;
import dev.once.testkit.servers.TestDatabase;
import dev.once.testkit.servers.TestServers;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
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
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider;
import org.springframework.security.oauth2.server.resource.authentication.JwtIssuerAuthenticationManagerResolver;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * Item 5 of issue 9, over real HTTP through Spring Security on PostgreSQL: keys are scoped to the
 * caller, and a caller is who vouches for the name as well as the name.
 *
 * <p>The security chain is an application's own: HTTP Basic for the application's users, and OAuth2
 * resource server JWTs from two issuers ({@link JwtIssuerAuthenticationManagerResolver}, each
 * issuer with its own RSA key). The tokens are real: signed here with Nimbus by the two "issuers"
 * (no authorization server can run here) and verified by Spring Security's own {@code
 * BearerTokenAuthenticationFilter} and {@link NimbusJwtDecoder}, which put a real {@code
 * JwtAuthenticationToken} in the security context. {@code /guest/**} is open to anonymous callers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallerScopeIT {

  static final TestDatabase DB = TestServers.postgres();
  static final String ISSUER_A = "https://login.a.example";
  static final String ISSUER_B = "https://login.b.example";
  static final KeyPair KEY_A = rsa();
  static final KeyPair KEY_B = rsa();

  private final String prefix =
      "once_who_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  private final JdbcTemplate direct =
      new JdbcTemplate(new DriverManagerDataSource(DB.jdbcUrl(), DB.user(), DB.password()));
  private HttpApp app;

  record Order(String item, int quantity) {}

  @RestController
  static class Orders {
    private final JdbcTemplate jdbc;
    private final String table;

    Orders(JdbcTemplate jdbc, @Value("${test.orders}") String table) {
      this.jdbc = jdbc;
      this.table = table;
    }

    @PostMapping("/orders")
    @Idempotent
    ResponseEntity<Map<String, Object>> order(@RequestBody Order order, Authentication caller) {
      return ResponseEntity.status(201).body(place(order, caller.getName()));
    }

    @PostMapping("/guest/orders")
    @Idempotent
    ResponseEntity<Map<String, Object>> guestOrder(@RequestBody Order order) {
      return ResponseEntity.status(201).body(place(order, "guest"));
    }

    @PostMapping("/guest/newsletter")
    @Idempotent(allowAnonymous = true)
    ResponseEntity<Map<String, Object>> subscribe(@RequestBody Order order) {
      return ResponseEntity.status(201).body(place(order, "guest"));
    }

    private Map<String, Object> place(Order order, String by) {
      long id =
          jdbc.queryForObject(
              "INSERT INTO " + table + " (item, placed_by) VALUES (?, ?) RETURNING id",
              Long.class,
              order.item(),
              by);
      return Map.of("id", id, "item", order.item(), "by", by);
    }
  }

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  @Import(Orders.class)
  static class App {
    @Bean
    SecurityFilterChain api(HttpSecurity http) throws Exception {
      Map<String, AuthenticationManager> issuers =
          Map.of(ISSUER_A, jwtFrom(KEY_A), ISSUER_B, jwtFrom(KEY_B));
      return http.authorizeHttpRequests(
              requests ->
                  requests.requestMatchers("/guest/**").permitAll().anyRequest().authenticated())
          .httpBasic(Customizer.withDefaults())
          .oauth2ResourceServer(
              resource ->
                  resource.authenticationManagerResolver(
                      new JwtIssuerAuthenticationManagerResolver(issuers::get)))
          .csrf(csrf -> csrf.disable())
          .sessionManagement(
              session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
          .build();
    }

    private static AuthenticationManager jwtFrom(KeyPair key) {
      return new ProviderManager(
          new JwtAuthenticationProvider(
              NimbusJwtDecoder.withPublicKey((RSAPublicKey) key.getPublic()).build()));
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
            + " (id BIGSERIAL PRIMARY KEY, item VARCHAR(100) NOT NULL,"
            + " placed_by VARCHAR(100) NOT NULL)");
    Map<String, Object> p = new HashMap<>();
    p.put("spring.datasource.url", DB.jdbcUrl());
    p.put("spring.datasource.username", DB.user());
    p.put("spring.datasource.password", DB.password());
    p.put("spring.datasource.hikari.maximum-pool-size", "2");
    p.put("once.jdbc.table", onceTable());
    p.put("once.jdbc.create-schema", "always");
    p.put("test.orders", orders());
    app = HttpApp.start(p, App.class);
  }

  @AfterAll
  void stop() {
    if (app != null) {
      app.close();
    }
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

  private long placed(String item) {
    return direct.queryForObject(
        "SELECT COUNT(*) FROM " + orders() + " WHERE item = ?", Long.class, item);
  }

  private long records() {
    return direct.queryForObject("SELECT COUNT(*) FROM " + onceTable(), Long.class);
  }

  private static String json(String item) {
    return "{\"item\":\"" + item + "\",\"quantity\":1}";
  }

  @Test
  void anAnonymousCallerIsRefusedBeforeAnyClaimSoItCanNeitherReadNorBurnAKey() {
    String key = UUID.randomUUID().toString();
    String item = "i-" + UUID.randomUUID();
    long recordsBefore = records();

    Reply anonymous = app.post("/guest/orders", key, json(item));
    Reply again = app.post("/guest/orders", key, json(item));

    assertThat(anonymous.status()).as(anonymous.toString()).isEqualTo(403);
    assertThat(anonymous.header("Content-Type")).hasValue("application/problem+json");
    assertThat(anonymous.body()).contains("authentication-required");
    assertThat(again.status()).isEqualTo(403);
    assertThat(placed(item)).as("the handler never ran").isZero();
    assertThat(records()).as("nothing was claimed or stored").isEqualTo(recordsBefore);

    Reply owner =
        app.post("/guest/orders", key, json(item), "Authorization", HttpApp.basic("alice"));
    assertThat(owner.status()).as(owner.toString()).isEqualTo(201);
    assertThat(owner.replayed()).isFalse();
    assertThat(placed(item)).isEqualTo(1);
  }

  @Test
  void aRouteThatAllowsAnonymousCallersServesThemInOneSharedKeySpace() {
    String key = UUID.randomUUID().toString();
    String item = "n-" + UUID.randomUUID();

    Reply first = app.post("/guest/newsletter", key, json(item));
    Reply retry = app.post("/guest/newsletter", key, json(item));

    assertThat(first.status()).as(first.toString()).isEqualTo(201);
    assertThat(retry.replayed()).as(retry.toString()).isTrue();
    assertThat(retry.body()).isEqualTo(first.body());
    assertThat(placed(item)).isEqualTo(1);
  }

  @Test
  void aPasswordUserAndJwtSubjectsOfTwoIssuersCalledAlikeNeverSeeEachOthersResponse() {
    String key = UUID.randomUUID().toString();
    String item = "o-" + UUID.randomUUID();
    String[] callers = {
      HttpApp.basic("alice"), bearer(ISSUER_A, KEY_A, "alice"), bearer(ISSUER_B, KEY_B, "alice")
    };

    Reply[] firsts = new Reply[callers.length];
    for (int i = 0; i < callers.length; i++) {
      firsts[i] = app.post("/orders", key, json(item), "Authorization", callers[i]);
    }
    for (int i = 0; i < callers.length; i++) {
      assertThat(firsts[i].status()).as("caller %d: %s", i, firsts[i]).isEqualTo(201);
      assertThat(firsts[i].replayed())
          .as("caller %d got another caller's response: %s", i, firsts[i])
          .isFalse();
    }
    assertThat(placed(item)).as("one order per caller").isEqualTo(3);
    for (int i = 0; i < callers.length; i++) {
      Reply retry = app.post("/orders", key, json(item), "Authorization", callers[i]);
      assertThat(retry.replayed()).as(retry.toString()).isTrue();
      assertThat(retry.body())
          .as("caller %d replays its own response", i)
          .isEqualTo(firsts[i].body());
    }
    assertThat(placed(item)).isEqualTo(3);
  }

  /**
   * {@code Authorization: Bearer} with an RS256 JWT that {@code issuer} signed for {@code subject}.
   */
  private static String bearer(String issuer, KeyPair key, String subject) {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader(JWSAlgorithm.RS256),
            new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject(subject)
                .issueTime(new Date())
                .expirationTime(Date.from(Instant.now().plusSeconds(600)))
                .build());
    try {
      jwt.sign(new RSASSASigner(key.getPrivate()));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return "Bearer " + jwt.serialize();
  }

  private static KeyPair rsa() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return generator.generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
