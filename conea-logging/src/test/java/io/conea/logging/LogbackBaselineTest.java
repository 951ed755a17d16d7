package io.conea.logging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogbackBaselineTest {

  @Test
  void theMinimumComesFromTheBuild() {
    assertThat(LogbackBaseline.MINIMUM).matches("1\\.\\d+\\.\\d+");
  }

  @Test
  void versionsCompareByTheirNumbers() {
    assertThat(LogbackBaseline.isAtLeast("1.5.18", "1.5.18")).isTrue();
    assertThat(LogbackBaseline.isAtLeast("1.5.20", "1.5.18")).isTrue();
    assertThat(LogbackBaseline.isAtLeast("1.6.0", "1.5.18")).isTrue();
    assertThat(LogbackBaseline.isAtLeast("1.5.9", "1.5.18")).isFalse();
    assertThat(LogbackBaseline.isAtLeast("1.4.14", "1.5.18")).isFalse();
    assertThat(LogbackBaseline.isAtLeast("1.5", "1.5.18")).isFalse();
  }

  @Test
  void theLogbackOnThisClassPathIsAccepted() {
    assertThat(LogbackBaseline.problem()).isNull();
  }
}
