package dev.once.benchmarks;

import java.util.List;
import javax.sql.DataSource;

/**
 * A store under test: where it runs, how to read its server's CPU, and its variants. Adding a store
 * is one subclass (see {@link RedisTarget}: its raw ceiling, plus Once's claim and cycle from
 * {@link OnceVariants}) and one line in {@link Benchmarks#open}.
 */
abstract class Target implements AutoCloseable {

  /** The store's name in the report, e.g. "PostgreSQL". */
  abstract String name();

  /**
   * Which server this is and where, e.g. "local server at jdbc:postgresql://127.0.0.1:5432/test".
   */
  abstract String where();

  /** The server's version, read from the server itself. */
  abstract String version();

  /** Durability settings that bound the figures (fsync, flush at commit), read from the server. */
  List<String> settings() {
    return List.of();
  }

  /** The server processes' CPU, or why it cannot be read. */
  abstract ProcCpu.Source serverCpu();

  /**
   * Bytes of write-ahead log the server has written so far, or -1 where it cannot say. Read around
   * the statement probe: a claim that answers "duplicate" without writing shows 0.
   */
  long walBytes() {
    return -1;
  }

  /**
   * The pool the JDBC variants use (the statement probe wraps it), or null for a store without
   * JDBC.
   */
  DataSource dataSource() {
    return null;
  }

  /** What the ceiling does at this batch size, or null if the store has no ceiling. */
  String ceilingLabel(int batch) {
    return null;
  }

  /** The raw statement or command at this batch size, or null. */
  Scenario.Factory ceiling(int batch) {
    return null;
  }

  /** Once's claim alone (standalone: the store's own connections), or null to skip it. */
  Scenario.Factory onceClaim(int batch) {
    return null;
  }

  /** Once's claim, run and complete: one transaction per call on SQL stores. */
  abstract Scenario.Factory onceCycle(int batch);

  /** How the cycle runs on this store, for the report. */
  String cycleLabel(int batch) {
    return batch == 1 ? "Once execute" : "Once claimAll + complete each";
  }

  /** Scenarios only this store has (peers on PostgreSQL), measured in the same groups. */
  List<Scenario> extraScenarios(int dupPercent) {
    return List.of();
  }

  @Override
  public void close() throws Exception {}
}
