package dev.once.spring.boot;

import dev.once.IdempotencyStore;
import dev.once.jdbc.JdbcIdempotencyStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The JDBC store on the application's {@link DataSource}: the default whenever there is one ({@code
 * once.store} unset or {@code jdbc}). Backs off when the application defines its own {@link
 * IdempotencyStore} bean.
 */
@AutoConfiguration(
    afterName = "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration")
@ConditionalOnClass({JdbcIdempotencyStore.class, DataSource.class})
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnProperty(prefix = "once", name = "store", havingValue = "jdbc", matchIfMissing = true)
@EnableConfigurationProperties(OnceProperties.class)
public class OnceJdbcAutoConfiguration {

  /**
   * The JDBC store on the application's DataSource, unless the application defines an {@link
   * IdempotencyStore}. Creates the table as {@code once.jdbc.create-schema} says.
   *
   * @param dataSource the application's single DataSource
   * @param properties {@code once.jdbc.*} configures it
   * @return the store
   */
  @Bean
  @ConditionalOnMissingBean(IdempotencyStore.class)
  public JdbcIdempotencyStore onceIdempotencyStore(
      DataSource dataSource, OnceProperties properties) {
    OnceJdbcProperties jdbc = properties.getJdbc();
    boolean create =
        switch (jdbc.getCreateSchema()) {
          case ALWAYS -> true;
          case NEVER -> false;
          case EMBEDDED -> isInMemory(dataSource);
        };
    return JdbcIdempotencyStore.builder(dataSource)
        .table(jdbc.getTable())
        .layout(jdbc.getLayout())
        .concurrentClaims(jdbc.getConcurrentClaims())
        .idleTransactionTimeout(jdbc.getIdleTransactionTimeout())
        .createSchema(create)
        .build();
  }

  /** The test Spring Boot's own SQL initialisation uses: a database that lives in memory only. */
  static boolean isInMemory(DataSource dataSource) {
    try (Connection c = dataSource.getConnection()) {
      String url = c.getMetaData().getURL();
      String u = url == null ? "" : url.toLowerCase(Locale.ROOT);
      return u.startsWith("jdbc:h2:mem:")
          || u.startsWith("jdbc:hsqldb:mem:")
          || u.startsWith("jdbc:derby:memory:");
    } catch (SQLException e) {
      return false;
    }
  }
}
