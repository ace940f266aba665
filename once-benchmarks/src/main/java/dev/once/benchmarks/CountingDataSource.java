package dev.once.benchmarks;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * A data source that counts the statements executed and the commits asked for through it. Used only
 * for the statement probe, never while timing: the proxies cost a little on every call.
 */
final class CountingDataSource {

  /** The entry of {@link #statementsBySql()} and {@link #nanosBySql()} that counts commits. */
  static final String COMMIT = "(commit)";

  private final LongAdder statements = new LongAdder();
  private final LongAdder commits = new LongAdder();
  private final Map<String, LongAdder> bySql = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> nanosBySql = new ConcurrentHashMap<>();
  private final DataSource proxy;

  CountingDataSource(DataSource target) {
    this.proxy =
        (DataSource)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {DataSource.class},
                (p, m, args) -> {
                  Object result = invoke(target, m, args);
                  return m.getName().equals("getConnection")
                      ? connection((Connection) result)
                      : result;
                });
  }

  /** The counting view; hand it to a variant as its data source. */
  DataSource dataSource() {
    return proxy;
  }

  void reset() {
    statements.reset();
    commits.reset();
    bySql.clear();
    nanosBySql.clear();
  }

  /**
   * Wall time spent in the executions of each statement text (the round trip: driver, network and
   * server).
   */
  Map<String, Long> nanosBySql() {
    Map<String, Long> out = new TreeMap<>();
    nanosBySql.forEach((sql, n) -> out.put(sql, n.sum()));
    return out;
  }

  /**
   * Executions per statement text (whitespace collapsed), sorted by text; commits under {@link
   * #COMMIT}.
   */
  Map<String, Long> statementsBySql() {
    Map<String, Long> out = new TreeMap<>();
    bySql.forEach((sql, n) -> out.put(sql, n.sum()));
    return out;
  }

  long statements() {
    return statements.sum();
  }

  long commits() {
    return commits.sum();
  }

  private Connection connection(Connection target) {
    InvocationHandler h =
        (p, m, args) -> {
          if (m.getName().equals("commit")) {
            commits.increment();
            bySql.computeIfAbsent(COMMIT, k -> new LongAdder()).increment();
            long start = System.nanoTime();
            try {
              return invoke(target, m, args);
            } finally {
              nanosBySql
                  .computeIfAbsent(COMMIT, k -> new LongAdder())
                  .add(System.nanoTime() - start);
            }
          }
          Object result = invoke(target, m, args);
          String sql =
              m.getName().startsWith("prepare")
                      && args != null
                      && args.length > 0
                      && args[0] instanceof String t
                  ? t
                  : null;
          if (result instanceof CallableStatement cs) {
            return statement(cs, CallableStatement.class, sql);
          }
          if (result instanceof PreparedStatement ps) {
            return statement(ps, PreparedStatement.class, sql);
          }
          if (result instanceof Statement s) {
            return statement(s, Statement.class, null);
          }
          return result;
        };
    return (Connection)
        Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class}, h);
  }

  private <T extends Statement> T statement(T target, Class<T> type, String prepared) {
    InvocationHandler h =
        (p, m, args) -> {
          if (!m.getName().startsWith("execute")) {
            return invoke(target, m, args);
          }
          statements.increment();
          String sql =
              (prepared != null
                      ? prepared
                      : args != null && args.length > 0 && args[0] instanceof String t
                          ? t
                          : "(unknown)")
                  .strip()
                  .replaceAll("\\s+", " ");
          bySql.computeIfAbsent(sql, k -> new LongAdder()).increment();
          long start = System.nanoTime();
          try {
            return invoke(target, m, args);
          } finally {
            nanosBySql.computeIfAbsent(sql, k -> new LongAdder()).add(System.nanoTime() - start);
          }
        };
    return type.cast(Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {type}, h));
  }

  private static Object invoke(Object target, Method m, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
