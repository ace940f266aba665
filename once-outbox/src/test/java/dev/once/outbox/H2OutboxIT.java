package dev.once.outbox;

import java.nio.file.Paths;
import java.util.UUID;

/** The outbox on an embedded H2 file database. */
class H2OutboxIT extends OutboxTestBase {

  private final String path =
      Paths.get("target", "h2", "outbox-" + UUID.randomUUID()).toAbsolutePath().toString();

  @Override
  protected String[] connection() {
    return new String[] {"jdbc:h2:file:" + path + ";DB_CLOSE_DELAY=-1", "sa", ""};
  }
}
