package dev.once.outbox.internal;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

/**
 * MariaDB 10.6+ ({@code SKIP LOCKED}): ids in {@code BINARY(16)}, because the {@code UUID} type
 * came only in 10.7; and a {@code DELETE ... LIMIT}, because MariaDB refuses {@code LIMIT} in an
 * {@code IN} subquery.
 */
record MariaDbStatements(String table) implements OutboxStatements {

  @Override
  public void bindId(PreparedStatement statement, int index, UUID id) throws SQLException {
    statement.setBytes(index, Uuid7.toBytes(id));
  }

  @Override
  public UUID readId(ResultSet row, String column) throws SQLException {
    return Ids.fromColumn(row.getBytes(column), table);
  }

  @Override
  public String purgeSent() {
    return "DELETE FROM " + table + " WHERE state = 'S' AND sent_at < ? ORDER BY seq LIMIT ?";
  }
}
