package dev.once.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.jdbc.SqlDialect;
import org.junit.jupiter.api.Test;

class SchemaScriptTest {

  private static final String DDL =
      "CREATE TABLE IF NOT EXISTS once_x (id INT, INDEX once_x_inline (id));\n"
          + "CREATE SEQUENCE IF NOT EXISTS once_x_seq;\n"
          + "CREATE UNIQUE INDEX once_x_by_id ON once_x (id);\n"
          + "INSERT INTO once_x_seq_table SELECT 1 FROM once_xy;\n";

  @Test
  void aPlainTableRenamesTheTableAndEveryDerivedName() {
    assertThat(SchemaScript.rename(DDL, "once_x", "orders", SqlDialect.POSTGRESQL))
        .isEqualTo(
            "CREATE TABLE IF NOT EXISTS orders (id INT, INDEX orders_inline (id));\n"
                + "CREATE SEQUENCE IF NOT EXISTS orders_seq;\n"
                + "CREATE UNIQUE INDEX orders_by_id ON orders (id);\n"
                + "INSERT INTO orders_seq_table SELECT 1 FROM once_xy;\n");
  }

  @Test
  void onAServerDatabaseTheSchemaGoesOnTablesAndSequencesButNotOnIndexes() {
    assertThat(SchemaScript.rename(DDL, "once_x", "app.once_x", SqlDialect.MARIADB))
        .isEqualTo(
            "CREATE TABLE IF NOT EXISTS app.once_x (id INT, INDEX once_x_inline (id));\n"
                + "CREATE SEQUENCE IF NOT EXISTS app.once_x_seq;\n"
                + "CREATE UNIQUE INDEX once_x_by_id ON app.once_x (id);\n"
                + "INSERT INTO app.once_x_seq_table SELECT 1 FROM once_xy;\n");
  }

  @Test
  void onSqliteTheSchemaGoesOnTheIndexAndTheIndexedTableIsBare() {
    assertThat(SchemaScript.rename(DDL, "once_x", "aux.orders", SqlDialect.SQLITE))
        .isEqualTo(
            "CREATE TABLE IF NOT EXISTS aux.orders (id INT, INDEX aux.orders_inline (id));\n"
                + "CREATE SEQUENCE IF NOT EXISTS aux.orders_seq;\n"
                + "CREATE UNIQUE INDEX aux.orders_by_id ON orders (id);\n"
                + "INSERT INTO aux.orders_seq_table SELECT 1 FROM once_xy;\n");
  }

  @Test
  void theShippedFilesRenderWithoutTheirComments() {
    String ddl =
        SchemaScript.render(
            SchemaScript.class,
            SqlDialect.POSTGRESQL.schemaResource(),
            "once_records",
            "payments_once",
            SqlDialect.POSTGRESQL);
    assertThat(ddl).doesNotContain("--").doesNotContain("once_records").contains("payments_once");
  }

  @Test
  void statementsSplitAtEachSemicolon() {
    assertThat(SchemaScript.split("CREATE TABLE a (x INT);\n CREATE INDEX b ON a (x) ;\n\n"))
        .containsExactly("CREATE TABLE a (x INT)", "CREATE INDEX b ON a (x)");
  }

  @Test
  void aDollarQuotedFunctionBodyStaysOneStatement() {
    String function =
        "CREATE FUNCTION f() RETURNS INT LANGUAGE plpgsql AS $$\n"
            + "DECLARE n INT;\nBEGIN\n  SELECT 1 INTO n;\n  RETURN n;\nEND;\n$$";
    assertThat(SchemaScript.split("CREATE TABLE a (x INT);\n" + function + ";\nSELECT f();"))
        .containsExactly("CREATE TABLE a (x INT)", function, "SELECT f()");
  }

  @Test
  void aTaggedDollarQuoteEndsOnlyAtTheSameTag() {
    String function =
        "CREATE FUNCTION g() RETURNS TEXT AS $body$ SELECT $$a;b$$; $body$ LANGUAGE sql";
    assertThat(SchemaScript.split(function + "; SELECT 2")).containsExactly(function, "SELECT 2");
  }

  @Test
  void aSemicolonInAStringLiteralDoesNotSplit() {
    assertThat(SchemaScript.split("SELECT 'a;b', 'it''s; fine'; SELECT $1"))
        .containsExactly("SELECT 'a;b', 'it''s; fine'", "SELECT $1");
  }

  @Test
  void anUnclosedDollarQuoteIsRefusedWithItsTag() {
    assertThatThrownBy(() -> SchemaScript.split("CREATE FUNCTION f() AS $fn$ BEGIN; END;"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dollar quote $fn$ is never closed");
  }

  @Test
  void thePartitionedPostgresFileSplitsIntoWholeFunctions() {
    String ddl =
        SchemaScript.render(
            SchemaScript.class,
            "db/once/postgresql/V1__once_records_partitioned.sql",
            "once_records",
            "app.payments_once",
            SqlDialect.POSTGRESQL);
    assertThat(SchemaScript.split(ddl))
        .filteredOn(s -> s.startsWith("CREATE OR REPLACE FUNCTION"))
        .hasSize(3)
        .allSatisfy(f -> assertThat(f).endsWith("$$").contains("app.payments_once"));
    assertThat(ddl).doesNotContain("once_records");
  }
}
