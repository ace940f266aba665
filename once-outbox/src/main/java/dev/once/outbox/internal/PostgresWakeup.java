package dev.once.outbox.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * A relay's {@code LISTEN} on a connection of its own: {@link #await} returns early when a writer's
 * transaction that notified commits. A lost connection is reopened on the next wait; until then the
 * relay polls.
 */
public final class PostgresWakeup implements AutoCloseable {

  private final DataSource dataSource;
  private final String channel;
  private @Nullable Connection connection;

  /**
   * @param dataSource where the listening connection comes from
   * @param channel the channel writers notify: the outbox table's name
   */
  public PostgresWakeup(DataSource dataSource, String channel) {
    this.dataSource = dataSource;
    this.channel = channel;
  }

  /**
   * Waits until a writer notifies or {@code timeout} passes.
   *
   * @param timeout the longest wait
   * @return whether a notification came
   * @throws SQLException if the listening connection failed (it is closed, and opened again on the
   *     next call)
   */
  public boolean await(Duration timeout) throws SQLException {
    try {
      Connection c = listening();
      PGNotification[] notes =
          c.unwrap(PGConnection.class).getNotifications((int) Math.max(1, timeout.toMillis()));
      return notes != null && notes.length > 0;
    } catch (SQLException e) {
      close();
      throw e;
    }
  }

  private Connection listening() throws SQLException {
    Connection c = connection;
    if (c == null) {
      c = dataSource.getConnection();
      try (Statement s = c.createStatement()) {
        c.setAutoCommit(true);
        s.execute("LISTEN \"" + channel + "\"");
      } catch (SQLException e) {
        c.close();
        throw e;
      }
      connection = c;
    }
    return c;
  }

  /**
   * Stops listening and gives the connection back, if open. A pooled connection that still listened
   * would collect every later notification while it idles or serves someone else.
   */
  @Override
  public void close() {
    Connection c = connection;
    connection = null;
    if (c != null) {
      try (c) {
        try (Statement s = c.createStatement()) {
          s.execute("UNLISTEN *");
        }
        c.unwrap(PGConnection.class).getNotifications(); // drops those that came before
      } catch (SQLException ignored) {
        // The connection failed, or the relay stops; a broken one goes back to its pool, which
        // discards it.
      }
    }
  }
}
