package dev.once.outbox.internal;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

/** Dialects without a {@code UUID} column type: the id is stored as its 16 bytes. */
interface BinaryIdStatements extends OutboxStatements {

  @Override
  default void bindId(PreparedStatement statement, int index, UUID id) throws SQLException {
    statement.setBytes(index, Uuid7.toBytes(id));
  }

  @Override
  default UUID readId(ResultSet row, String column) throws SQLException {
    return Ids.fromColumn(row.getBytes(column), table());
  }
}
