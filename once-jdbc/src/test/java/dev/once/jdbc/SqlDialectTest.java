package dev.once.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * Which database product names map to which dialect; the real servers' detection runs in the store
 * ITs.
 */
class SqlDialectTest {

  @Test
  void mariaDbIsDetectedByNameOrByItsVersionWhenMySqlsDriverCallsItMySql() {
    assertThat(SqlDialect.detect("MariaDB", "10.11.19-MariaDB-0+deb12u1"))
        .isEqualTo(SqlDialect.MARIADB);
    assertThat(SqlDialect.detect("MySQL", "5.5.5-10.11.19-MariaDB-0+deb12u1"))
        .isEqualTo(SqlDialect.MARIADB);
  }

  @Test
  void mySqlIsRefusedAsNotSupportedYet() {
    assertThatThrownBy(() -> SqlDialect.detect("MySQL", "8.4.3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("MySQL (8.4.3) is not supported yet");
  }

  @Test
  void postgresSqliteAndH2AreDetectedAndAnythingElseIsRefused() {
    assertThat(SqlDialect.detect("PostgreSQL", "18.0")).isEqualTo(SqlDialect.POSTGRESQL);
    assertThat(SqlDialect.detect("SQLite", "3.54.1")).isEqualTo(SqlDialect.SQLITE);
    assertThat(SqlDialect.detect("H2", "2.3.232 (2024-08-11)")).isEqualTo(SqlDialect.H2);
    assertThatThrownBy(() -> SqlDialect.detect("Oracle", "23ai"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no SQL dialect for 'Oracle'");
  }
}
