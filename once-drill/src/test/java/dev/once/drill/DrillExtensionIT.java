package dev.once.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.once.drill.junit.DrillExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.opentest4j.AssertionFailedError;

class DrillExtensionIT {
  private static final Path REPORTS = Path.of("target", "drill-extension-it");

  @RegisterExtension static final DrillExtension drills = DrillExtension.writingReportsTo(REPORTS);

  private static Drill.Builder drill(java.net.URI target) {
    return Drill.builder(target, DrillIT.orders(6));
  }

  @Test
  void aPassingDrillWritesItsReportsUnderTheTestsName() throws Exception {
    try (var service = TestService.idempotent()) {
      drills.assertPasses(drill(service.uri()));
      drills.assertPasses(drill(service.uri()));
    }
    String name = "DrillExtensionIT.aPassingDrillWritesItsReportsUnderTheTestsName";
    assertThat(REPORTS.resolve(name + ".json")).exists();
    assertThat(Files.readString(REPORTS.resolve(name + ".html"))).contains("<h1>PASS");
    assertThat(REPORTS.resolve(name + "-2.html")).exists();
  }

  @Test
  void aFailingDrillFailsTheTestWithTheVerdict() throws Exception {
    try (var service = TestService.naive()) {
      assertThatThrownBy(() -> drills.assertPasses(drill(service.uri())))
          .isInstanceOf(AssertionFailedError.class)
          .hasMessageContaining("the drill failed:")
          .hasMessageContaining("FAIL: replays-identical");
    }
    assertThat(REPORTS.resolve("DrillExtensionIT.aFailingDrillFailsTheTestWithTheVerdict.html"))
        .content()
        .contains("<h1>FAIL");
  }

  @Test
  void aDrillOutsideATestIsRefused() throws Exception {
    DrillExtension unregistered = DrillExtension.writingReportsTo(REPORTS);
    assertThatThrownBy(() -> unregistered.run(drill(java.net.URI.create("http://127.0.0.1:1"))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("no current test: register the DrillExtension");
  }
}
