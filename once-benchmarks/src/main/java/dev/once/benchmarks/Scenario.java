package dev.once.benchmarks;

import javax.sql.DataSource;

/**
 * One measured line: a variant of one store at one batch size and duplicate ratio.
 *
 * @param store the store or server, e.g. "PostgreSQL"
 * @param kind what the line is for: Once, the store's ceiling, or a peer
 * @param label what it does, e.g. "INSERT ... ON CONFLICT DO NOTHING"
 * @param batch keys per call (1: one call per key)
 * @param dupPercent share of keys that are duplicates, exact per 100 keys
 * @param dataSource the pool the variant uses, or null for a store without JDBC; the statement
 *     probe wraps it
 * @param factory builds the variant on a data source
 */
record Scenario(
    String store,
    Kind kind,
    String label,
    int batch,
    int dupPercent,
    DataSource dataSource,
    Factory factory) {

  enum Kind {
    /** The raw statement or command: the most a store can do for this job. */
    CEILING,
    /** Once's claim alone: the dedupe decision, as the ceiling makes it. */
    ONCE_CLAIM,
    /**
     * Once's full cycle: claim, run (nothing), complete; one transaction per call on SQL stores.
     */
    ONCE_CYCLE,
    /** What a user would otherwise pick. */
    PEER
  }

  @FunctionalInterface
  interface Factory {
    Variant create(DataSource dataSource) throws Exception;
  }
}
