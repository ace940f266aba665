package dev.once.redis.internal;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * One Lua script of the store: its text (a resource next to this class) and the SHA-1 that EVALSHA
 * names it by.
 */
public enum Script {
  CLAIM("claim.lua"),
  COMPLETE("complete.lua"),
  RELEASE("release.lua"),
  RENEW("renew.lua"),
  PURGE("purge.lua"),
  INSPECT("inspect.lua"),
  FORCE_RELEASE("force_release.lua");

  /** Every script, in the order they are loaded. */
  public static final List<Script> ALL = List.of(values());

  private final byte[] text;
  private final String sha;

  Script(String resource) {
    try (InputStream in = Script.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            "script resource " + resource + " is missing from once-redis");
      }
      this.text = in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read script resource " + resource, e);
    }
    try {
      this.sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-1, which the Java SE spec requires", e);
    }
  }

  /** The Lua source, UTF-8. */
  public byte[] text() {
    return text.clone();
  }

  /** The lowercase hex SHA-1 of the source, as SCRIPT LOAD answers it. */
  public String sha() {
    return sha;
  }

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT) + ".lua (" + sha.substring(0, 12) + ")";
  }
}
