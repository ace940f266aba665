package dev.once.kafka.internal;

import dev.once.jdbc.SqlDialect;
import dev.once.jdbc.internal.SchemaScript;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;

/**
 * The consumer offsets kept beside the effects: one row per (group, topic, partition) holding the
 * next offset to read. Written in the batch's transaction; only ever moves forward, so a zombie's
 * late batch cannot move it back. Plain SQL that PostgreSQL, MariaDB, H2 and SQLite all run; the
 * table is {@code db/once/<dialect>/V1__once_kafka_offsets.sql}.
 */
public final class OffsetTable {

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  private final String table;

  public OffsetTable(String table) {
    if (!NAME.matcher(table).matches()) {
      throw new IllegalArgumentException(
          "offsets table must be a plain SQL identifier, but was '" + table + "'");
    }
    this.table = table;
  }

  public String table() {
    return table;
  }

  public void createSchema(Connection c) throws SQLException {
    SchemaScript.execute(c, schemaSql(SqlDialect.detect(c), table));
  }

  /**
   * {@return the classpath resource of {@code dialect}'s offsets table} For example {@code
   * db/once/postgresql/V1__once_kafka_offsets.sql}: the file users copy into their migrations.
   *
   * @param dialect the database's dialect
   */
  public static String schemaResource(SqlDialect dialect) {
    return "db/once/" + dialect.name().toLowerCase(Locale.ROOT) + "/V1__once_kafka_offsets.sql";
  }

  /** The schema file's statements, comments stripped, for {@code table}. */
  static String schemaSql(SqlDialect dialect, String table) {
    return SchemaScript.render(
        OffsetTable.class, schemaResource(dialect), "once_kafka_offsets", table, dialect);
  }

  /** Moves each partition's next offset forward to the given value (never back). */
  public void advance(Connection c, String group, Map<TopicPartition, Long> next)
      throws SQLException {
    try (PreparedStatement update =
            c.prepareStatement(
                "UPDATE "
                    + table
                    + " SET next_offset = ? WHERE consumer_group = ?"
                    + " AND topic = ? AND topic_partition = ? AND next_offset < ?");
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO "
                    + table
                    + " (consumer_group, topic, topic_partition, next_offset) SELECT ?, ?, ?, ? WHERE NOT EXISTS"
                    + " (SELECT 1 FROM "
                    + table
                    + " WHERE consumer_group = ? AND topic = ? AND topic_partition = ?)")) {
      for (Map.Entry<TopicPartition, Long> e : next.entrySet()) {
        update.setLong(1, e.getValue());
        update.setString(2, group);
        update.setString(3, e.getKey().topic());
        update.setInt(4, e.getKey().partition());
        update.setLong(5, e.getValue());
        if (update.executeUpdate() == 0) {
          insert.setString(1, group);
          insert.setString(2, e.getKey().topic());
          insert.setInt(3, e.getKey().partition());
          insert.setLong(4, e.getValue());
          insert.setString(5, group);
          insert.setString(6, e.getKey().topic());
          insert.setInt(7, e.getKey().partition());
          insert.executeUpdate();
        }
      }
    }
  }

  /** The stored next offsets of these partitions; partitions never written are absent. */
  public Map<TopicPartition, Long> read(
      Connection c, String group, Collection<TopicPartition> partitions) throws SQLException {
    Map<TopicPartition, Long> found = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT next_offset FROM "
                + table
                + " WHERE consumer_group = ? AND topic = ? AND topic_partition = ?")) {
      for (TopicPartition tp : partitions) {
        ps.setString(1, group);
        ps.setString(2, tp.topic());
        ps.setInt(3, tp.partition());
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            found.put(tp, rs.getLong(1));
          }
        }
      }
    }
    return found;
  }
}
