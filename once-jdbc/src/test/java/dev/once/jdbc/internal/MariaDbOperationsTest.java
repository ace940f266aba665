package dev.once.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Which MariaDB server versions the store accepts; the real server's runs in MariaDbStoreIT. */
class MariaDbOperationsTest {

  @Test
  void mariaDb105AndLaterAreAcceptedAsEitherDriverReportsThem() {
    for (String version :
        new String[] {
          "10.5.0-MariaDB",
          "10.11.19-MariaDB-0+deb12u1",
          "5.5.5-10.11.19-MariaDB-0+deb12u1",
          "11.4.5-MariaDB",
          "12.0.2-MariaDB"
        }) {
      assertThatCode(() -> MariaDbOperations.checkVersion(version))
          .as(version)
          .doesNotThrowAnyException();
    }
  }

  @Test
  void anOlderServerIsRefusedNamingItsVersionAndWhy() {
    for (String version :
        new String[] {
          "10.4.34-MariaDB", "10.3.39-MariaDB-log", "5.5.5-10.4.1-MariaDB", "5.5.68-MariaDB"
        }) {
      assertThatThrownBy(() -> MariaDbOperations.checkVersion(version))
          .as(version)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("MariaDB 10.5 or later")
          .hasMessageContaining("this server is " + version)
          .hasMessageContaining("RETURNING");
    }
  }

  @Test
  void aVersionItCannotReadIsLeftToTheFirstClaim() {
    assertThatCode(() -> MariaDbOperations.checkVersion("unknown")).doesNotThrowAnyException();
  }
}
