package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.IdempotencyStore;
import dev.once.InMemoryIdempotencyStore;
import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.redis.RedisIdempotencyStore;
import dev.once.servlet.IdempotencyFilter;
import jakarta.servlet.DispatcherType;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

class OnceAutoConfigurationTest {

  private final WebApplicationContextRunner runner =
      new WebApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  OnceJdbcAutoConfiguration.class,
                  OnceRedisAutoConfiguration.class,
                  OnceInMemoryAutoConfiguration.class,
                  OnceTransactionAutoConfiguration.class,
                  OnceWebMvcAutoConfiguration.class));

  @Configuration(proxyBeanMethods = false)
  static class Database {
    @Bean
    DataSource dataSource() {
      JdbcDataSource ds = new JdbcDataSource();
      ds.setURL("jdbc:h2:mem:starter-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      return ds;
    }

    @Bean
    PlatformTransactionManager transactionManager(DataSource dataSource) {
      return new JdbcTransactionManager(dataSource);
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnStore {
    @Bean
    IdempotencyStore myStore() {
      return InMemoryIdempotencyStore.builder().name("mine").build();
    }
  }

  @Test
  void withADataSourceTheStoreIsJdbcAndAtomicAndTheTableIsCreatedForAnInMemoryDatabase() {
    runner
        .withUserConfiguration(Database.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).hasSingleBean(JdbcIdempotencyStore.class);
              assertThat(context).hasSingleBean(TransactionalExchangeBoundary.class);
              assertThat(context).hasSingleBean(IdempotencyFilter.class);
              JdbcIdempotencyStore store = context.getBean(JdbcIdempotencyStore.class);
              assertThat(context.getBean(TransactionalExchangeBoundary.class).isAtomic(store))
                  .isTrue();
              assertThat(
                      new JdbcTemplate(context.getBean(DataSource.class))
                          .queryForObject("SELECT COUNT(*) FROM once_records", Long.class))
                  .isZero();
            });
  }

  @Test
  void jdbcSettingsReachTheStore() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues(
            "once.jdbc.table=idem_keys",
            "once.jdbc.concurrent-claims=wait",
            "once.jdbc.create-schema=always")
        .run(
            context -> {
              assertThat(context.getBean(JdbcIdempotencyStore.class).table())
                  .isEqualTo("idem_keys");
              assertThat(context.getBean(OnceProperties.class).getJdbc().getConcurrentClaims())
                  .isEqualTo(ConcurrentClaimPolicy.WAIT);
              assertThat(
                      new JdbcTemplate(context.getBean(DataSource.class))
                          .queryForObject("SELECT COUNT(*) FROM idem_keys", Long.class))
                  .isZero();
            });
  }

  @Test
  void createSchemaNeverLeavesTheTableToTheMigrations() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues("once.jdbc.create-schema=never")
        .run(
            context ->
                assertThat(
                        new JdbcTemplate(context.getBean(DataSource.class))
                            .queryForObject(
                                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE UPPER(TABLE_NAME) = 'ONCE_RECORDS'",
                                Long.class))
                    .isZero());
  }

  @Test
  void withoutADataSourceTheStoreIsInMemoryAndThereIsNoAtomicMode() {
    runner.run(
        context -> {
          assertThat(context).hasSingleBean(InMemoryIdempotencyStore.class);
          assertThat(context).doesNotHaveBean(TransactionalExchangeBoundary.class);
          assertThat(context).hasSingleBean(IdempotencyFilter.class);
        });
  }

  @Test
  void onceStoreMemoryWinsOverADataSource() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues("once.store=memory", "once.memory.max-records=7")
        .run(
            context -> {
              assertThat(context).hasSingleBean(InMemoryIdempotencyStore.class);
              assertThat(context).doesNotHaveBean(JdbcIdempotencyStore.class);
              assertThat(context).doesNotHaveBean(TransactionalExchangeBoundary.class);
            });
  }

  @Test
  void anApplicationStoreReplacesTheAutoConfiguredOne() {
    runner
        .withUserConfiguration(Database.class, OwnStore.class)
        .run(
            context -> {
              assertThat(context).hasSingleBean(IdempotencyStore.class);
              assertThat(context.getBean(IdempotencyStore.class).name()).isEqualTo("mine");
              assertThat(context).doesNotHaveBean(TransactionalExchangeBoundary.class);
            });
  }

  @Test
  void atomicFalseIsLeaseMode() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues("once.http.atomic=false")
        .run(
            context -> {
              assertThat(context).hasSingleBean(JdbcIdempotencyStore.class);
              assertThat(context).doesNotHaveBean(TransactionalExchangeBoundary.class);
            });
  }

  @Test
  void atomicTrueWithoutAJdbcStoreFailsTheStartNamingTheFix() {
    runner
        .withPropertyValues("once.http.atomic=true")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .rootCause()
                  .hasMessageContaining("once.http.atomic=true needs the JDBC store");
            });
  }

  @Test
  void onceStoreRedisWithoutOnceRedisFailsTheStartNamingTheDependency() {
    runner
        .withClassLoader(new FilteredClassLoader(RedisIdempotencyStore.class))
        .withPropertyValues("once.store=redis")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .rootCause()
                  .hasMessageContaining("dev.once:once-redis");
            });
  }

  @Test
  void theFilterIsRegisteredForRequestsAfterSpringSecurity() {
    runner.run(
        context -> {
          @SuppressWarnings("unchecked")
          FilterRegistrationBean<IdempotencyFilter> registration =
              context.getBean(
                  OnceWebMvcAutoConfiguration.FILTER_REGISTRATION_BEAN_NAME,
                  FilterRegistrationBean.class);
          assertThat(registration.getFilter()).isSameAs(context.getBean(IdempotencyFilter.class));
          assertThat(registration.getOrder())
              .isEqualTo(Ordered.LOWEST_PRECEDENCE - 100)
              .isGreaterThan(-100);
          assertThat(registration.determineDispatcherTypes())
              .containsExactly(DispatcherType.REQUEST);
        });
  }

  @Test
  void theFilterCanBeSwitchedOff() {
    runner
        .withPropertyValues("once.http.enabled=false")
        .run(
            context -> {
              assertThat(context).doesNotHaveBean(IdempotencyFilter.class);
              assertThat(context).hasSingleBean(IdempotencyStore.class);
            });
  }

  @Test
  void aBadPropertyFailsTheStartWithTheValue() {
    runner
        .withPropertyValues("once.jdbc.table=no-such;table")
        .withUserConfiguration(Database.class)
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .rootCause()
                  .hasMessageContaining("no-such;table");
            });
  }
}
