package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlertRulesTest {

  /** Burn-rate alerts per long window: short window, burn factor, severity (SRE workbook). */
  private static final Map<String, List<String>> BURN_WINDOWS =
      Map.of(
          "1h", List.of("5m", "14.4", "critical"),
          "6h", List.of("30m", "6", "critical"),
          "1d", List.of("2h", "3", "warning"),
          "3d", List.of("6h", "1", "warning"));

  private static final Pattern RECORDED_NAME = Pattern.compile("job:[a-z0-9_]+:[a-z0-9_]+");

  @Test
  void promtoolAcceptsEveryRuleFile() {
    Path promtool = Tools.promtool();
    for (Path file : Assets.ruleFiles()) {
      Tools.Result result =
          Tools.run(
              Assets.prometheusDir(), Duration.ofSeconds(30), promtool, "check", "rules", file);
      assertThat(result.exitCode())
          .as("promtool check rules %s:%n%s", file, result.output())
          .isZero();
      assertThat(result.output()).contains("SUCCESS");
    }
  }

  @Test
  void alertsAreTheGuidesRulesVerbatim() {
    JsonNode guide = Assets.guideYaml("alerts.yaml");
    JsonNode shipped = Assets.yaml(Assets.prometheusDir().resolve("alerts.yml"));

    // Same groups, intervals, alert names, expressions, durations, labels and annotations.
    assertThat(shipped).isEqualTo(guide);
    assertThat(shipped.at("/groups/0/name").asText()).isEqualTo("conea_critical");
    assertThat(shipped.at("/groups/1/name").asText()).isEqualTo("conea_resources");
  }

  @Test
  void promtoolUnitTestsPassForEveryTestFile() {
    List<Object> command = new ArrayList<>(List.of(Tools.promtool(), "test", "rules"));
    command.addAll(Assets.ruleTests());

    Tools.Result result =
        Tools.run(Assets.prometheusDir(), Duration.ofSeconds(120), command.toArray());

    assertThat(Assets.ruleTests()).hasSizeGreaterThanOrEqualTo(4);
    assertThat(result.exitCode()).as("promtool test rules:%n%s", result.output()).isZero();
    assertThat(result.output()).doesNotContain("FAILED");
  }

  @Test
  void everyAlertHasAFiringAndASilentUnitTest() {
    Set<String> firing = new TreeSet<>();
    Set<String> silent = new TreeSet<>();
    for (Path file : Assets.ruleTests()) {
      for (JsonNode test : Assets.yaml(file).path("tests")) {
        for (JsonNode check : test.path("alert_rule_test")) {
          String alert = check.path("alertname").asText();
          (check.path("exp_alerts").isEmpty() ? silent : firing).add(alert);
        }
      }
    }
    Set<String> alerts = new TreeSet<>();
    Assets.alertRules().forEach(rule -> alerts.add(rule.path("alert").asText()));

    assertThat(alerts).hasSize(14);
    assertThat(firing).as("alerts with a firing case").containsAll(alerts);
    assertThat(silent).as("alerts with a not-firing case").containsAll(alerts);
  }

  @Test
  void unitTestsCatchAChangedThreshold(@TempDir Path dir) throws IOException {
    // The guide's 5% error-rate threshold raised to 50%: the shipped unit tests must notice.
    String alerts = Files.readString(Assets.prometheusDir().resolve("alerts.yml"));
    assertThat(alerts).contains(") > 0.05\n");
    Files.writeString(dir.resolve("alerts.yml"), alerts.replace(") > 0.05\n", ") > 0.5\n"));
    Path tests = Files.createDirectories(dir.resolve("tests"));
    Path test = tests.resolve("alerts_test.yml");
    Files.copy(Assets.prometheusDir().resolve("tests/alerts_test.yml"), test);

    Tools.Result result =
        Tools.run(dir, Duration.ofSeconds(60), Tools.promtool(), "test", "rules", test);

    assertThat(result.exitCode()).isNotZero();
    assertThat(result.output()).contains("FAILED").contains("alertname: HighErrorRate");
  }

  @Test
  void burnRateAlertsPairALongAndAShortWindowAtTheWorkbookFactors() {
    List<JsonNode> burnAlerts =
        Assets.alertRules().stream()
            .filter(rule -> rule.path("alert").asText().contains("ErrorBudgetBurn"))
            .toList();
    assertThat(burnAlerts).hasSize(8);

    for (JsonNode rule : burnAlerts) {
      String name = rule.path("alert").asText();
      String slo = rule.at("/labels/slo").asText();
      String longWindow = rule.at("/labels/window").asText();
      List<String> expected = BURN_WINDOWS.get(longWindow);
      assertThat(expected).as("window of %s", name).isNotNull();
      String sli =
          slo.equals("availability")
              ? "job:sli_error_rate:ratio_rate"
              : "job:sli_latency_slow_requests:ratio_rate";
      String budget = slo.equals("availability") ? "0.001" : "0.05";
      String threshold = "(" + expected.get(1) + " * " + budget + ")";

      assertThat(name).isEqualTo(capitalized(slo) + "ErrorBudgetBurn" + longWindow);
      assertThat(rule.path("expr").asText())
          .isEqualToIgnoringWhitespace(
              sli
                  + longWindow
                  + " > "
                  + threshold
                  + " and "
                  + sli
                  + expected.get(0)
                  + " > "
                  + threshold);
      assertThat(rule.at("/labels/severity").asText()).as(name).isEqualTo(expected.get(2));
      assertThat(rule.at("/labels/team").asText()).isEqualTo("platform");
      assertThat(rule.at("/annotations/summary").asText()).isNotBlank();
      assertThat(rule.at("/annotations/description").asText()).contains("$value");
      assertThat(rule.at("/annotations/runbook_url").asText()).startsWith("https://");
    }
  }

  @Test
  void everyRecordedSeriesThatAnAlertReadsIsRecorded() {
    Set<String> recorded = new TreeSet<>();
    Assets.rules().stream()
        .filter(rule -> rule.has("record"))
        .forEach(rule -> recorded.add(rule.path("record").asText()));
    Set<String> read = new TreeSet<>();
    for (JsonNode rule : Assets.alertRules()) {
      Matcher names = RECORDED_NAME.matcher(rule.path("expr").asText());
      while (names.find()) {
        read.add(names.group());
      }
    }

    assertThat(read).hasSize(14);
    assertThat(recorded).containsAll(read);
  }

  private static String capitalized(String word) {
    return Character.toUpperCase(word.charAt(0)) + word.substring(1);
  }
}
