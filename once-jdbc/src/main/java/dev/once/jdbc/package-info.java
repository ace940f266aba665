/**
 * Stores and an inbox on a relational database (PostgreSQL, MariaDB, SQLite, H2): {@link
 * dev.once.jdbc.JdbcIdempotencyStore} claims on its own connection or in the caller's transaction,
 * and {@link dev.once.jdbc.JdbcInbox} marks messages processed in the same transaction as their
 * effects.
 */
@NullMarked
package dev.once.jdbc;

import org.jspecify.annotations.NullMarked;
