package dev.once.outbox.internal;

/**
 * MariaDB 10.6+ ({@code SKIP LOCKED}): ids in {@code BINARY(16)}, because the {@code UUID} type
 * came only in 10.7; and a {@code DELETE ... LIMIT}, because MariaDB refuses {@code LIMIT} in an
 * {@code IN} subquery.
 */
record MariaDbStatements(String table) implements BinaryIdStatements {

  @Override
  public String purgeSent() {
    return "DELETE FROM " + table + " WHERE state = 'S' AND sent_at < ? ORDER BY seq LIMIT ?";
  }
}
