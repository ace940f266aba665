package dev.once.testkit.servers;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class ServerResolutionIT {

  @Test
  void postgresAnswersSql() throws SQLException {
    TestDatabase db = TestServers.postgres();

    assertThat(selectOne(db)).isEqualTo(1);
    assertThat(db.description())
        .startsWith("PostgreSQL: ")
        .containsAnyOf("port " + db.port() + ",", ":" + db.port() + "/");
    assertThat(db).hasToString(db.description());
  }

  @Test
  void mariadbAnswersSql() throws SQLException {
    TestDatabase db = TestServers.mariadb();

    assertThat(selectOne(db)).isEqualTo(1);
    assertThat(db.description())
        .startsWith("MariaDB: ")
        .containsAnyOf("port " + db.port() + ",", ":" + db.port() + "/");
    assertThat(db).hasToString(db.description());
  }

  @Test
  void resolvesOncePerJvm() {
    assertThat(TestServers.postgres()).isSameAs(TestServers.postgres());
    assertThat(TestServers.mariadb()).isSameAs(TestServers.mariadb());
  }

  static int selectOne(TestDatabase db) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select 1")) {
      assertThat(rs.next()).isTrue();
      return rs.getInt(1);
    }
  }
}
