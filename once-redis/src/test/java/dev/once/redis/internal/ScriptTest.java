package dev.once.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScriptTest {

  @Test
  void everyScriptIsLoadedWithTheShaOfItsText() throws Exception {
    Set<String> shas = new HashSet<>();
    for (Script script : Script.ALL) {
      String text = new String(script.text(), StandardCharsets.UTF_8);
      assertThat(text).as("%s", script).contains("KEYS[1]");
      if (script != Script.FORCE_RELEASE) { // an operator's release ignores the lease: no clock
        assertThat(text).as("%s reads the server's clock", script).contains("redis.call('TIME')");
      }
      assertThat(script.sha())
          .isEqualTo(
              HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(script.text())));
      assertThat(shas.add(script.sha())).isTrue();
    }
    assertThat(Script.ALL).containsExactly(Script.values());
  }

  @Test
  void claimCompleteAndRenewSetTheTimeToLiveThemselves() {
    for (Script script : Set.of(Script.CLAIM, Script.COMPLETE, Script.RENEW)) {
      assertThat(new String(script.text(), StandardCharsets.UTF_8))
          .as("%s", script)
          .contains("PEXPIRE");
    }
  }
}
