package dev.once.spring.boot;

import dev.once.jdbc.ConcurrentClaimPolicy;
import dev.once.jdbc.JdbcIdempotencyStore;
import java.util.List;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/** What the Kafka and RabbitMQ auto-configurations share. */
final class ListenerStores {

  private ListenerStores() {}

  /**
   * The listeners' view of the JDBC store ({@code once.jdbc.table}): always {@code WAIT} for a
   * concurrent claim, whatever {@code once.jdbc.concurrent-claims} says for HTTP, because a
   * duplicate delivered to another consumer must wait for the first commit and be skipped, not fail
   * and spend a retry. Not a bean, so the application keeps exactly one {@code
   * JdbcIdempotencyStore} bean.
   */
  static JdbcIdempotencyStore store(DataSource dataSource, OnceProperties properties) {
    OnceJdbcProperties jdbc = properties.getJdbc();
    boolean create =
        switch (jdbc.getCreateSchema()) {
          case ALWAYS -> true;
          case NEVER -> false;
          case EMBEDDED -> OnceJdbcAutoConfiguration.isInMemory(dataSource);
        };
    return JdbcIdempotencyStore.builder(dataSource)
        .table(jdbc.getTable())
        .layout(jdbc.getLayout())
        .concurrentClaims(ConcurrentClaimPolicy.WAIT)
        .createSchema(create)
        .build();
  }

  /**
   * The application's transaction manager for its database: the only one that is not a broker's
   * (those cannot hand out the DataSource's connection); without exactly one, a {@link
   * DataSourceTransactionManager} of our own, which {@code JdbcTemplate} and {@code JdbcClient} on
   * the same DataSource join as well.
   */
  static PlatformTransactionManager transactionManager(
      ObjectProvider<PlatformTransactionManager> managers,
      DataSource dataSource,
      Predicate<PlatformTransactionManager> isBroker) {
    List<PlatformTransactionManager> candidates =
        managers.orderedStream().filter(isBroker.negate()).toList();
    return candidates.size() == 1
        ? candidates.get(0)
        : new DataSourceTransactionManager(dataSource);
  }
}
