package io.conea.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The command line: commands, help, and usage errors (exit code 2 with a message). */
class ConeaReportTest {

  @Test
  void helpAtTheTopLevelListsTheCommands() {
    for (String help : new String[] {"--help", "-h", "help"}) {
      Run run = Run.of(help);

      assertThat(run.exitCode()).isZero();
      assertThat(run.err()).isEmpty();
      assertThat(run.out())
          .startsWith("Usage: conea-report COMMAND [OPTIONS]\n")
          .contains("  slo ", "  capacity ", "  alerts ", "Exit codes: 0");
    }
  }

  @Test
  void everyCommandHasHelp() {
    assertThat(Run.of("slo", "--help").out())
        .startsWith(
            "Usage: conea-report slo --prometheus URL [--slos FILE] [--window DURATION] [--json]\n")
        .contains("--slos FILE", "--window DURATION", "--json", "Exit codes: 0 every SLO met");
    assertThat(Run.of("capacity", "-h").out())
        .startsWith("Usage: conea-report capacity --prometheus URL")
        .contains("--rate-window DURATION");
    assertThat(Run.of("alerts", "--alertmanager", "http://x", "--help").out())
        .startsWith("Usage: conea-report alerts --alertmanager URL [--json]\n");
    assertThat(Run.of("slo", "--bogus", "--help").exitCode()).isZero();
  }

  @Test
  void noCommandPrintsTheUsageOnStderr() {
    Run run = Run.of();

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).startsWith("Usage: conea-report COMMAND");
  }

  @Test
  void unknownCommandsAndOptionsAreNamed() {
    assertUsageError(
        Run.of("report"),
        "conea-report: unknown command 'report' (commands: slo, capacity, alerts; see conea-report"
            + " --help)");
    assertUsageError(
        Run.of("--json", "slo"),
        "conea-report: unknown option --json before the command (commands: slo, capacity, alerts;"
            + " see conea-report --help)");
    assertUsageError(
        Run.of("slo", "--prometheus", "http://p:9090", "--format", "yaml"),
        "conea-report slo: unknown option --format; unexpected argument 'yaml' (see conea-report"
            + " slo --help)");
    assertUsageError(
        Run.of("capacity", "--prometheus=http://p:9090", "--slos", "x.yml", "-v"),
        "conea-report capacity: unknown options --slos, -v; unexpected argument 'x.yml' (see"
            + " conea-report capacity --help)");
    assertUsageError(
        Run.of("alerts", "--prometheus", "http://p:9090"),
        "conea-report alerts: unknown option --prometheus; unexpected argument 'http://p:9090'"
            + " (see conea-report alerts --help)");
  }

  @Test
  void missingAndMalformedValuesAreUsageErrors() {
    assertUsageError(
        Run.of("slo"), "conea-report slo: missing --prometheus (see conea-report slo --help)");
    assertUsageError(
        Run.of("slo", "--prometheus"),
        "conea-report slo: --prometheus needs a value (see conea-report slo --help)");
    assertUsageError(
        Run.of("slo", "--prometheus", "--json"),
        "conea-report slo: --prometheus needs a value (see conea-report slo --help)");
    assertUsageError(
        Run.of("slo", "--prometheus=", "--json"),
        "conea-report slo: --prometheus needs a value (see conea-report slo --help)");
    assertUsageError(
        Run.of("slo", "--prometheus", "http://p:9090", "--json=yes"),
        "conea-report slo: --json takes no value (see conea-report slo --help)");
    assertUsageError(
        Run.of("slo", "--prometheus", "http://p:9090", "--window", "a month"),
        "conea-report slo: --window a month is not a Prometheus duration such as 30d or 12h (see"
            + " conea-report slo --help)");
    assertUsageError(
        Run.of("slo", "--prometheus", "prometheus:9090"),
        "conea-report slo: invalid Prometheus URL 'prometheus:9090': expected http://host:port or"
            + " https://...");
    assertUsageError(
        Run.of("alerts", "--alertmanager", "http://am:9093/api?x=1"),
        "conea-report alerts: invalid Alertmanager URL 'http://am:9093/api?x=1': no query or"
            + " fragment, only a base URL");
  }

  private static void assertUsageError(Run run, String message) {
    assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).isEqualTo(message + "\n");
  }
}
