package dev.once.outbox.internal;

import dev.once.outbox.OutboxMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Claims a batch in the caller's transaction: the dialect's locking claim, then the order check
 * that SQL alone cannot make. The claim already passes over rows behind a key's head that is not
 * due; what it cannot see is a head another relay has locked (skipped, so invisible to this {@code
 * SELECT}). So, for each key in the batch, the pending rows of that key are read again up to the
 * batch's last one, and only the batch's own leading run of them is kept: a row behind a row of its
 * key that is not in the batch stays locked, unpublished, until the transaction ends.
 */
public final class Claimer {

  private Claimer() {}

  /**
   * Claims up to {@code limit} rows due at {@code nowMillis}, in order.
   *
   * @param connection the relay's connection, in a transaction
   * @param sql the dialect's statements
   * @param nowMillis the relay's clock
   * @param limit the most rows to claim
   * @return every row the claim locked, and those of them that may be published now, oldest first
   * @throws SQLException as the driver throws it
   */
  public static Claimed claim(
      Connection connection, OutboxStatements sql, long nowMillis, int limit) throws SQLException {
    sql.beginClaim(connection);
    List<ClaimedRow> locked = new ArrayList<>();
    try (PreparedStatement s = connection.prepareStatement(sql.claim())) {
      s.setLong(1, nowMillis);
      s.setLong(2, nowMillis);
      s.setInt(3, limit);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          locked.add(
              new ClaimedRow(
                  rs.getLong("seq"),
                  new OutboxMessage(
                      sql.readId(rs, "id"),
                      rs.getString("destination"),
                      rs.getString("msg_key"),
                      rs.getBytes("payload"),
                      HeaderCodec.decode(rs.getBytes("headers"))),
                  rs.getInt("attempts")));
        }
      }
    }
    return new Claimed(locked, inOrder(connection, sql, locked));
  }

  /**
   * What a claim locked, and which of those may be published now.
   *
   * @param locked every row the claim locked
   * @param publishable the rows no unsent row of their key precedes outside the batch
   */
  public record Claimed(List<ClaimedRow> locked, List<ClaimedRow> publishable) {}

  private static List<ClaimedRow> inOrder(
      Connection connection, OutboxStatements sql, List<ClaimedRow> locked) throws SQLException {
    Set<String> keys = new LinkedHashSet<>();
    long lastSeq = Long.MIN_VALUE;
    for (ClaimedRow row : locked) {
      String key = row.message().key();
      if (key != null) {
        keys.add(key);
        lastSeq = Math.max(lastSeq, row.seq());
      }
    }
    if (keys.isEmpty()) {
      return locked;
    }
    Set<Long> ours = new HashSet<>();
    for (ClaimedRow row : locked) {
      ours.add(row.seq());
    }
    // Per key: the seqs of our leading run; the first pending row of the key that is not ours ends
    // it.
    Map<String, Boolean> runEnded = new HashMap<>();
    Set<Long> allowed = new HashSet<>();
    try (PreparedStatement s = connection.prepareStatement(sql.pendingOfKeys(keys.size()))) {
      s.setLong(sql.bindKeys(s, 1, keys), lastSeq);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          long seq = rs.getLong(1);
          String key = rs.getString(2);
          if (runEnded.getOrDefault(key, false)) {
            continue;
          }
          if (ours.contains(seq)) {
            allowed.add(seq);
          } else {
            runEnded.put(key, true);
          }
        }
      }
    }
    List<ClaimedRow> publishable = new ArrayList<>();
    for (ClaimedRow row : locked) {
      if (row.message().key() == null || allowed.contains(row.seq())) {
        publishable.add(row);
      }
    }
    return publishable;
  }
}
