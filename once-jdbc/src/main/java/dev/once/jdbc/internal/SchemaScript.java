package dev.once.jdbc.internal;

import dev.once.jdbc.SqlDialect;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Once's schema files ({@code db/once/<dialect>/V1__<table>.sql}) as DDL for the user's table name:
 * the one place that reads them, for the idempotency records and the outbox alike.
 *
 * <p>A file names its table and every object derived from it after the default table ({@code
 * once_records}, {@code once_records_expires_at}, ...). Rendered for a table {@code [schema.]name},
 * the table becomes {@code [schema.]name}, an index {@code name_<suffix>} (an index lives in its
 * table's schema, and PostgreSQL and MariaDB refuse a qualified index name), and any other object
 * (a sequence, SQLite's token table) {@code [schema.]name_<suffix>}. SQLite is the other way round
 * for indexes: the schema goes on the index's name and the table it indexes is named bare.
 */
public final class SchemaScript {

  /** {@code $$} or {@code $tag$}: opens a dollar-quoted string that runs to the same tag. */
  private static final Pattern DOLLAR_QUOTE = Pattern.compile("\\$(?:[A-Za-z_][A-Za-z0-9_]*)?\\$");

  private static final Pattern INDEX_NAME =
      Pattern.compile("(?i)(\\bINDEX\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?)(\\w+)");

  private SchemaScript() {}

  /**
   * Reads a schema file and renames its objects after {@code table}.
   *
   * @param owner a class of the module that holds the file
   * @param resource the file's classpath resource
   * @param defaultTable the table name the file uses
   * @param table the table to render for, a checked identifier, optionally schema-qualified
   * @param dialect the database the file is for
   * @return the DDL statements, separated by {@code ;}, comments removed
   * @throws IllegalStateException if the file is missing or unreadable
   */
  public static String render(
      Class<?> owner, String resource, String defaultTable, String table, SqlDialect dialect) {
    String text;
    try (InputStream in = owner.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("schema resource " + resource + " is missing");
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + resource, e);
    }
    StringBuilder code = new StringBuilder();
    for (String line : text.split("\n")) {
      code.append(line.contains("--") ? line.substring(0, line.indexOf("--")) : line).append('\n');
    }
    return rename(code.toString(), defaultTable, table, dialect);
  }

  /**
   * Renames the objects of {@code ddl} after {@code table}, as {@link #render} does.
   *
   * @param ddl the statements, without comments
   * @param defaultTable the table name {@code ddl} uses
   * @param table the table to rename to, optionally schema-qualified
   * @param dialect the database
   * @return the renamed statements
   */
  public static String rename(String ddl, String defaultTable, String table, SqlDialect dialect) {
    int dot = table.indexOf('.');
    String schema = dot < 0 ? "" : table.substring(0, dot + 1);
    String plain = table.substring(dot + 1);
    boolean sqliteQualified = dialect == SqlDialect.SQLITE && dot >= 0;
    Pattern derived = Pattern.compile("\\b" + Pattern.quote(defaultTable) + "((?:_\\w+)?)\\b");
    // Index names first, behind a marker, so that the pass over the other names leaves them alone.
    String marker = "\u0000";
    StringBuilder out = new StringBuilder();
    Matcher index = INDEX_NAME.matcher(ddl);
    while (index.find()) {
      Matcher name = derived.matcher(index.group(2));
      String renamed =
          name.matches()
              ? (sqliteQualified ? schema : "") + marker + plain + name.group(1) + marker
              : index.group(2);
      index.appendReplacement(out, Matcher.quoteReplacement(index.group(1) + renamed));
    }
    index.appendTail(out);
    String tablesRenamed =
        sqliteQualified ? onBareTable(out.toString(), defaultTable, plain) : out.toString();
    StringBuilder result = new StringBuilder();
    String[] parts = tablesRenamed.split(marker, -1);
    for (int i = 0; i < parts.length; i++) {
      // Odd parts are index names, already final.
      result.append(
          i % 2 == 1
              ? parts[i]
              : derived
                  .matcher(parts[i])
                  .replaceAll(m -> Matcher.quoteReplacement(table + m.group(1))));
    }
    return result.toString();
  }

  /** SQLite: {@code ON once_x} of an index statement names the table without its schema. */
  private static String onBareTable(String ddl, String defaultTable, String plain) {
    return Pattern.compile("(?i)(\\bON\\s+)" + Pattern.quote(defaultTable) + "\\b")
        .matcher(ddl)
        .replaceAll(m -> Matcher.quoteReplacement(m.group(1) + "\u0000" + plain + "\u0000"));
  }

  /**
   * Runs rendered DDL statement by statement, in the connection's current mode.
   *
   * @param connection the connection
   * @param ddl statements separated by {@code ;}
   * @return how many statements ran
   * @throws SQLException if one fails
   */
  public static int execute(Connection connection, String ddl) throws SQLException {
    int executed = 0;
    try (Statement s = connection.createStatement()) {
      for (String statement : split(ddl)) {
        s.execute(statement);
        executed++;
      }
    }
    return executed;
  }

  /**
   * Splits DDL into statements at each {@code ;} that is neither inside a dollar-quoted body
   * ({@code $$ ... $$} or {@code $tag$ ... $tag$}, PostgreSQL's function bodies, whose own
   * statements end in {@code ;}) nor inside a single-quoted string.
   *
   * @param ddl statements separated by {@code ;}, comments removed
   * @return the non-blank statements, trimmed, in order
   * @throws IllegalArgumentException if a dollar quote or a string is never closed
   */
  public static List<String> split(String ddl) {
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int i = 0;
    while (i < ddl.length()) {
      char ch = ddl.charAt(i);
      Matcher dollar = DOLLAR_QUOTE.matcher(ddl).region(i, ddl.length());
      if (ch == '$' && dollar.lookingAt()) {
        String tag = dollar.group();
        int close = ddl.indexOf(tag, i + tag.length());
        if (close < 0) {
          throw new IllegalArgumentException("dollar quote " + tag + " is never closed");
        }
        current.append(ddl, i, close + tag.length());
        i = close + tag.length();
      } else if (ch == '\'') {
        // '' inside a string is an escaped quote: the scan simply closes and reopens the string.
        int close = ddl.indexOf('\'', i + 1);
        if (close < 0) {
          throw new IllegalArgumentException("a string literal is never closed");
        }
        current.append(ddl, i, close + 1);
        i = close + 1;
      } else if (ch == ';') {
        addIfNotBlank(statements, current);
        current.setLength(0);
        i++;
      } else {
        current.append(ch);
        i++;
      }
    }
    addIfNotBlank(statements, current);
    return statements;
  }

  private static void addIfNotBlank(List<String> statements, CharSequence statement) {
    String s = statement.toString().strip();
    if (!s.isEmpty()) {
      statements.add(s);
    }
  }
}
