package dev.once.benchmarks;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.IdentityHashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Diagnostic only, for the Kafka scenario: lets a per-record handler add its write to a JDBC batch that runs on the
 * same connection just before the transaction commits, which is what a batch-level handler (or a public
 * before-commit hook) on {@code KafkaInboxConsumer} would let a user write. It measures what the inbox would cost
 * if its effect were batched like the plain consumer's; it is not a way to use Once. One thread at a time.
 */
final class FlushBeforeCommit {

  /** Binds one record's parameters. */
  @FunctionalInterface
  interface Binder {
    void bind(PreparedStatement ps) throws SQLException;
  }

  private final Map<Connection, PreparedStatement> pending = new IdentityHashMap<>();
  private final DataSource proxy;

  FlushBeforeCommit(DataSource target) {
    this.proxy = (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
        (p, m, args) -> {
          Object result = invoke(target, m, args);
          return m.getName().equals("getConnection") ? connection((Connection) result) : result;
        });
  }

  DataSource dataSource() {
    return proxy;
  }

  /** Adds one write to the batch of {@code c} (a connection of {@link #dataSource()}), prepared on first use. */
  void add(Connection c, String sql, Binder binder) throws SQLException {
    PreparedStatement ps = pending.get(c);
    if (ps == null) {
      ps = c.prepareStatement(sql);
      pending.put(c, ps);
    }
    binder.bind(ps);
    ps.addBatch();
  }

  private Connection connection(Connection target) {
    Connection[] self = new Connection[1];
    self[0] = (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
        (p, m, args) -> {
          boolean noArgs = args == null || args.length == 0;
          if (m.getName().equals("commit")) {
            PreparedStatement ps = pending.remove(self[0]);
            if (ps != null) {
              try (ps) {
                ps.executeBatch();
              }
            }
          } else if ((m.getName().equals("rollback") && noArgs) || m.getName().equals("close")) {
            PreparedStatement ps = pending.remove(self[0]);
            if (ps != null) {
              ps.close();
            }
          }
          return invoke(target, m, args);
        });
    return self[0];
  }

  private static Object invoke(Object target, Method m, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
