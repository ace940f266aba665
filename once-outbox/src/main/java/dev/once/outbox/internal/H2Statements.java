package dev.once.outbox.internal;

/** H2 2.x: {@code UUID} ids; its grammar has {@code FOR UPDATE SKIP LOCKED}. */
record H2Statements(String table) implements OutboxStatements {}
