package dev.once.outbox.internal;

import java.sql.SQLException;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** Ids stored as 16 bytes. */
final class Ids {

  private Ids() {}

  static UUID fromColumn(byte @Nullable [] bytes, String table) throws SQLException {
    if (bytes == null || bytes.length != 16) {
      throw new SQLException(
          "outbox row in "
              + table
              + " has no 16-byte id: "
              + (bytes == null ? "null" : bytes.length));
    }
    return Uuid7.fromBytes(bytes);
  }
}
