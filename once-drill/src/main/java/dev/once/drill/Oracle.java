package dev.once.drill;

import dev.once.drill.internal.HttpOracle;
import dev.once.drill.internal.JdbcOracle;
import java.net.URI;
import org.jspecify.annotations.Nullable;

/**
 * Counts the effects of one logical request after the drill: the check "effects exactly once"
 * expects 1 for each. Queries name the request through placeholders: {@code {key}} (its idempotency
 * key), {@code {method}}, {@code {path}}, {@code {header.Name}} and {@code {body.field}} (a field
 * of a JSON body; {@code {body.a.b}} goes deeper).
 */
public interface Oracle {

  /**
   * {@return how many times {@code request} took effect}
   *
   * @param request the logical request, as first sent (its key header set)
   * @param key its idempotency key
   * @throws Exception if the effects cannot be counted; the check then fails with the message
   */
  long count(DrillRequest request, String key) throws Exception;

  /** {@return a description for the report, without credentials} */
  String describe();

  /**
   * An SQL oracle: runs {@code sql}, placeholders bound as string parameters (never spliced into
   * the text), and reads the first column of the first row as the count. The JDBC drivers for
   * PostgreSQL, MariaDB, SQLite and H2 come with the drill.
   *
   * @param url the JDBC URL
   * @param user the user, or null
   * @param password the password, or null
   * @param sql a query such as {@code select count(*) from payments where customer_id =
   *     {body.customerId}}
   * @return the oracle
   * @throws DrillInputException if the query has an unknown placeholder or none
   */
  static Oracle jdbc(String url, @Nullable String user, @Nullable String password, String sql) {
    return new JdbcOracle(url, user, password, sql);
  }

  /**
   * An HTTP oracle: a GET of {@code template} (placeholders URL-encoded) on the drill's target,
   * whose body is the count, or a JSON array whose length is.
   *
   * @param target the drill's target: the oracle sends nowhere else
   * @param template a path such as {@code /effects?key={key}}, or an absolute URL on the target
   * @return the oracle
   * @throws DrillInputException if the template is on another host or has an unknown placeholder
   */
  static Oracle http(URI target, String template) {
    return new HttpOracle(target, template);
  }
}
