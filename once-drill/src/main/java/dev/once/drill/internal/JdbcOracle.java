package dev.once.drill.internal;

import dev.once.drill.DrillInputException;
import dev.once.drill.DrillRequest;
import dev.once.drill.Oracle;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** {@link Oracle#jdbc}: one short connection per count, so it never holds the service's locks. */
public final class JdbcOracle implements Oracle {
  private final String url;
  private final @Nullable String user;
  private final @Nullable String password;
  private final Placeholders sql;
  private final String statement;

  /** See {@link Oracle#jdbc}. */
  public JdbcOracle(String url, @Nullable String user, @Nullable String password, String sql) {
    if (!url.startsWith("jdbc:")) {
      throw new DrillInputException(
          "oracle: a JDBC URL starts with 'jdbc:', but was '" + url + "'");
    }
    this.url = url;
    this.user = user;
    this.password = password;
    this.sql = new Placeholders(sql, "oracle SQL");
    if (this.sql.size() == 0) {
      throw new DrillInputException(
          "oracle SQL: no placeholder, so it cannot count one request's effects: "
              + "use {key} or a request field such as {body.customerId}");
    }
    this.statement = this.sql.withMarkers("?");
  }

  @Override
  public long count(DrillRequest request, String key) throws SQLException {
    List<String> values = sql.values(request, key);
    try (Connection c = DriverManager.getConnection(url, user, password);
        PreparedStatement ps = c.prepareStatement(statement)) {
      for (int i = 0; i < values.size(); i++) {
        ps.setString(i + 1, values.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException("the oracle query returned no row: " + statement);
        }
        return rs.getLong(1);
      }
    }
  }

  @Override
  public String describe() {
    int query = url.indexOf('?');
    return "SQL on " + (query < 0 ? url : url.substring(0, query)) + ": " + statement;
  }
}
