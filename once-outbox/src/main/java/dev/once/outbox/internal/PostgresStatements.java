package dev.once.outbox.internal;

/** PostgreSQL: {@code UUID} ids, {@code SKIP LOCKED}, and {@code pg_notify} at commit. */
record PostgresStatements(String table) implements OutboxStatements {

  @Override
  public String notifyRelays() {
    return "SELECT pg_notify(?, '')";
  }
}
