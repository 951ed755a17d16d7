package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class AlertmanagerConfigTest {

  private static final Path CONFIG = Assets.alertmanagerConfig();

  @Test
  void amtoolAcceptsTheConfiguration() {
    Tools.Result result =
        Tools.run(
            CONFIG.getParent(), Duration.ofSeconds(30), Tools.amtool(), "check-config", CONFIG);

    assertThat(result.exitCode()).as("amtool check-config:%n%s", result.output()).isZero();
    assertThat(result.output()).contains("SUCCESS").contains("3 receivers");
  }

  @Test
  void alertsRouteBySeverityAsTheGuideSays() {
    Path amtool = Tools.amtool();
    assertRoute(amtool, "critical", "alertname=HighErrorRate", "severity=critical");
    assertRoute(amtool, "warning", "alertname=HighLatency", "severity=warning");
    assertRoute(amtool, "default", "alertname=Watchdog", "severity=info");
    assertRoute(amtool, "default", "alertname=Unlabelled");
  }

  @Test
  void everyShippedAlertReachesTheReceiverOfItsSeverity() {
    Path amtool = Tools.amtool();
    Set<String> severities = new TreeSet<>();
    Assets.alertRules().forEach(rule -> severities.add(rule.at("/labels/severity").asText()));

    assertThat(severities).containsExactly("critical", "warning");
    for (String severity : severities) {
      assertRoute(amtool, severity, "severity=" + severity, "team=platform");
    }
  }

  @Test
  void routesAndReceiversAreTheGuides() {
    JsonNode guide = Assets.guideYaml("alertmanager.yml");
    JsonNode shipped = Assets.yaml(CONFIG);

    assertThat(shipped.at("/global/resolve_timeout"))
        .isEqualTo(guide.at("/global/resolve_timeout"));
    for (String field :
        List.of("group_by", "group_wait", "group_interval", "repeat_interval", "receiver")) {
      assertThat(shipped.path("route").path(field))
          .as(field)
          .isEqualTo(guide.path("route").path(field));
    }
    JsonNode guideRoutes = guide.at("/route/routes");
    JsonNode routes = shipped.at("/route/routes");
    assertThat(routes).hasSize(guideRoutes.size());
    for (int i = 0; i < routes.size(); i++) {
      JsonNode guideRoute = guideRoutes.get(i);
      JsonNode route = routes.get(i);
      // `match: {severity: x}` and `matchers: ['severity="x"']` select the same alerts.
      String severity = guideRoute.at("/match/severity").asText();
      assertThat(route.path("matchers"))
          .containsExactly(Assets.JSON.getNodeFactory().textNode("severity=\"" + severity + "\""));
      assertThat(route.path("receiver")).isEqualTo(guideRoute.path("receiver"));
      assertThat(route.path("continue")).isEqualTo(guideRoute.path("continue"));
    }
    assertThat(names(shipped.path("receivers"))).isEqualTo(names(guide.path("receivers")));
    for (int i = 0; i < guide.path("receivers").size(); i++) {
      assertThat(shipped.path("receivers").get(i).path("slack_configs"))
          .isEqualTo(guide.path("receivers").get(i).path("slack_configs"));
    }
    assertThat(shipped.at("/receivers/1/pagerduty_configs")).hasSize(1);
  }

  @Test
  void secretsAreReadFromFilesAndNeverWrittenInTheConfiguration() throws Exception {
    JsonNode shipped = Assets.yaml(CONFIG);
    String text = Files.readString(CONFIG);

    assertThat(shipped.at("/global/slack_api_url_file").asText())
        .startsWith("/etc/alertmanager/secrets/");
    assertThat(shipped.at("/receivers/1/pagerduty_configs/0/service_key_file").asText())
        .startsWith("/etc/alertmanager/secrets/");
    assertThat(shipped.path("global").has("slack_api_url")).isFalse();
    assertThat(shipped.at("/receivers/1/pagerduty_configs/0").has("service_key")).isFalse();
    assertThat(text)
        .doesNotContain("hooks.slack.com")
        .doesNotContain("YOUR_")
        .doesNotContainPattern("(?m)^\\s*-?\\s*(api_url|service_key|routing_key|slack_api_url):");
  }

  private static void assertRoute(Path amtool, String receiver, String... labels) {
    List<Object> command =
        new ArrayList<>(
            List.of(
                amtool,
                "config",
                "routes",
                "test",
                "--config.file=" + CONFIG,
                "--verify.receivers=" + receiver));
    command.addAll(List.of(labels));

    Tools.Result result = Tools.run(CONFIG.getParent(), Duration.ofSeconds(30), command.toArray());

    assertThat(result.exitCode()).as("route of %s:%n%s", List.of(labels), result.output()).isZero();
    assertThat(result.output().lines().filter(line -> !line.startsWith("Warning:")))
        .containsExactly(receiver);
  }

  private static List<String> names(JsonNode receivers) {
    List<String> names = new ArrayList<>();
    receivers.forEach(receiver -> names.add(receiver.path("name").asText()));
    return names;
  }
}
