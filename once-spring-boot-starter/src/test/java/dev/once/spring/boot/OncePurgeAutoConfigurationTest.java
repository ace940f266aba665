package dev.once.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.once.IdempotencyStore;
import dev.once.InMemoryIdempotencyStore;
import dev.once.Purger;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

class OncePurgeAutoConfigurationTest {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  OnceJdbcAutoConfiguration.class,
                  OnceRedisAutoConfiguration.class,
                  OnceInMemoryAutoConfiguration.class,
                  OncePurgeAutoConfiguration.class));

  @Configuration(proxyBeanMethods = false)
  static class Database {
    @Bean
    DataSource dataSource() {
      JdbcDataSource ds = new JdbcDataSource();
      ds.setURL("jdbc:h2:mem:purge-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      return ds;
    }
  }

  /** Two stores of the application's own, and a listener. */
  @Configuration(proxyBeanMethods = false)
  static class OwnStoresAndListener {
    static final List<String> HEARD = new CopyOnWriteArrayList<>();

    @Bean
    InMemoryIdempotencyStore first() {
      return InMemoryIdempotencyStore.builder().name("first").build();
    }

    @Bean
    InMemoryIdempotencyStore second() {
      return InMemoryIdempotencyStore.builder().name("second").build();
    }

    @Bean
    Purger.Listener purgeListener() {
      return new Purger.Listener() {
        @Override
        public void onPurge(String purger, int batches, int deleted) {
          HEARD.add(purger);
        }
      };
    }
  }

  @Test
  void theStoreTheStarterBuildsIsPurgedByDefaultWithTheDocumentedSettings() {
    runner
        .withUserConfiguration(Database.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              OncePurgers purgers = context.getBean(OncePurgers.class);
              assertThat(purgers.isRunning()).isTrue();
              assertThat(purgers.purgers()).hasSize(1);
              Purger purger = purgers.purgers().get(0);
              assertThat(purger.name()).isEqualTo(context.getBean(IdempotencyStore.class).name());
              assertThat(purger.isRunning()).isTrue();
              assertThat(purger)
                  .hasToString(
                      "Purger["
                          + purger.name()
                          + ", batchSize=1000, pause=PT0.05S, interval=PT1M]");
            });
  }

  @Test
  void theSettingsAreTheProperties() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues(
            "once.purge.interval=5m", "once.purge.batch-size=200", "once.purge.pause=0s")
        .run(
            context ->
                assertThat(context.getBean(OncePurgers.class).purgers().get(0).toString())
                    .endsWith(", batchSize=200, pause=PT0S, interval=PT5M]"));
  }

  @Test
  void disabledThereIsNoPurger() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues("once.purge.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(OncePurgers.class));
  }

  @Test
  void aBadSettingFailsTheStartUpNamingTheValue() {
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues("once.purge.batch-size=0")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage("batchSize must be positive, but was 0"));
    runner
        .withUserConfiguration(Database.class)
        .withPropertyValues("once.purge.interval=0s")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage("interval must be positive, but was PT0S"));
  }

  @Test
  void everyStoreBeanGetsAPurgerAndTheListenerBeanHearsThem() throws Exception {
    OwnStoresAndListener.HEARD.clear();
    runner
        .withUserConfiguration(OwnStoresAndListener.class)
        .run(
            context -> {
              List<Purger> purgers = context.getBean(OncePurgers.class).purgers();
              assertThat(purgers).extracting(Purger::name).containsExactly("first", "second");
              for (Purger purger : purgers) {
                purger.purgeOnce();
              }
              assertThat(OwnStoresAndListener.HEARD).contains("first", "second");
            });
  }

  @Test
  void stoppingTheContextStopsThePurgers() {
    runner
        .withUserConfiguration(Database.class)
        .run(
            context -> {
              OncePurgers purgers = context.getBean(OncePurgers.class);
              Purger purger = purgers.purgers().get(0);
              context.stop();
              assertThat(purgers.isRunning()).isFalse();
              assertThat(purgers.purgers()).isEmpty();
              assertThat(purger.isRunning()).isFalse();
              context.start();
              assertThat(purgers.purgers()).hasSize(1).doesNotContain(purger);
            });
  }
}
