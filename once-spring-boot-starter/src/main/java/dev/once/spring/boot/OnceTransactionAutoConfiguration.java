package dev.once.spring.boot;

import dev.once.jdbc.JdbcIdempotencyStore;
import dev.once.servlet.ExchangeBoundary;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Atomic mode for the JDBC store: {@link TransactionalExchangeBoundary}, so the key record, the
 * handler's {@code @Transactional} writes and the stored response commit in one transaction. On by
 * default whenever the store is JDBC and the application has a {@link PlatformTransactionManager};
 * {@code once.http.atomic=false} turns it off (lease mode).
 */
@AutoConfiguration(
    after = OnceJdbcAutoConfiguration.class,
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
      "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration"
    })
@ConditionalOnClass({
  JdbcIdempotencyStore.class,
  ExchangeBoundary.class,
  TransactionTemplate.class,
  DataSourceUtils.class
})
@ConditionalOnSingleCandidate(JdbcIdempotencyStore.class)
@ConditionalOnBean({PlatformTransactionManager.class, DataSource.class})
@ConditionalOnProperty(
    prefix = "once.http",
    name = "atomic",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceTransactionAutoConfiguration {

  /**
   * Atomic mode's boundary: each exchange on the JDBC store runs in one transaction, unless the
   * application defines an {@link ExchangeBoundary}.
   *
   * @param store the JDBC store
   * @param dataSource the store's DataSource
   * @param transactionManager the application's transaction manager for it
   * @return the boundary
   */
  @Bean
  @ConditionalOnMissingBean(ExchangeBoundary.class)
  public TransactionalExchangeBoundary onceTransactionalExchangeBoundary(
      JdbcIdempotencyStore store,
      DataSource dataSource,
      PlatformTransactionManager transactionManager) {
    return new TransactionalExchangeBoundary(store, dataSource, transactionManager);
  }
}
