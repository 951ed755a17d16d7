package io.conea.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code alerts} against a fake Alertmanager API v2. */
class AlertsCommandTest {

  private static final String ALERTS =
      """
      [
        {"labels": {"alertname": "HighLatency", "severity": "warning", "team": "platform"},
         "annotations": {"summary": "High latency detected", "description": "p95 is 1.2s"},
         "startsAt": "2025-05-26T10:00:00.000Z", "endsAt": "2025-05-26T10:35:00.000Z",
         "fingerprint": "b1", "receivers": [{"name": "slack"}],
         "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}},
        {"labels": {"alertname": "Watchdog"},
         "annotations": {},
         "startsAt": "2025-05-26T09:00:00.000Z", "fingerprint": "c1",
         "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}},
        {"labels": {"alertname": "ServiceDown", "severity": "critical", "instance": "api-1:8080",
                    "job": "conea-api"},
         "annotations": {"summary": "Service api-1:8080 is down"},
         "startsAt": "2025-05-26T10:20:00.000Z", "fingerprint": "a1",
         "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}},
        {"labels": {"alertname": "HighCPUUsage", "severity": "warning", "instance": "node-1"},
         "annotations": {"description": "CPU usage is 91%"},
         "startsAt": "2025-05-26T10:10:00.000Z", "fingerprint": "b2",
         "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}}
      ]
      """;

  @TempDir Path dir;

  private FakeServer alertmanager;

  @AfterEach
  void stop() {
    if (alertmanager != null) {
      alertmanager.close();
    }
  }

  @Test
  void jsonGroupsTheFiringAlertsBySeverity() {
    alertmanager = new FakeServer(uri -> new FakeServer.Response(200, ALERTS));
    Run run = Run.of(dir, "alerts", "--alertmanager", alertmanager.url() + "/", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(alertmanager.requests)
        .extracting(Object::toString)
        .containsExactly("/api/v2/alerts?active=true&silenced=false&inhibited=false");
    JsonNode json = run.json();
    assertThat(json.path("alertmanager").asText()).isEqualTo(alertmanager.url());
    assertThat(json.path("firing").asInt()).isEqualTo(4);
    assertThat(json.path("by_severity").properties())
        .extracting(java.util.Map.Entry::getKey)
        .containsExactly("critical", "warning", "none");
    assertThat(json.at("/by_severity/warning"))
        .extracting(alert -> alert.path("alertname").asText())
        .containsExactly("HighCPUUsage", "HighLatency");
    JsonNode down = json.at("/by_severity/critical/0");
    assertThat(down.path("alertname").asText()).isEqualTo("ServiceDown");
    assertThat(down.path("starts_at").asText()).isEqualTo("2025-05-26T10:20:00.000Z");
    assertThat(down.at("/labels/instance").asText()).isEqualTo("api-1:8080");
    assertThat(down.at("/annotations/summary").asText()).isEqualTo("Service api-1:8080 is down");
    assertThat(down.path("fingerprint").asText()).isEqualTo("a1");
  }

  @Test
  void theTableHasOneSectionPerSeverity() {
    alertmanager = new FakeServer(uri -> new FakeServer.Response(200, ALERTS));
    Run run = Run.of(dir, "alerts", "--alertmanager", alertmanager.url());

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .isEqualTo(
            "4 firing alerts on "
                + alertmanager.url()
                + "\n\n"
                + "critical (1)\n"
                + "  ALERT        SINCE                     LABELS                              SUMMARY\n"
                + "  ServiceDown  2025-05-26T10:20:00.000Z  instance=api-1:8080, job=conea-api"
                + "  Service api-1:8080 is down\n"
                + "\n"
                + "warning (2)\n"
                + "  ALERT         SINCE                     LABELS           SUMMARY\n"
                + "  HighCPUUsage  2025-05-26T10:10:00.000Z  instance=node-1  CPU usage is 91%\n"
                + "  HighLatency   2025-05-26T10:00:00.000Z  team=platform    High latency"
                + " detected\n"
                + "\n"
                + "none (1)\n"
                + "  ALERT     SINCE                     LABELS  SUMMARY\n"
                + "  Watchdog  2025-05-26T09:00:00.000Z  -       -\n");
  }

  @Test
  void noAlertsIsSaidSo() {
    alertmanager = new FakeServer(uri -> new FakeServer.Response(200, "[]"));

    Run table = Run.of(dir, "alerts", "--alertmanager", alertmanager.url());
    Run json = Run.of(dir, "alerts", "--alertmanager", alertmanager.url(), "--json");

    assertThat(table.exitCode()).isZero();
    assertThat(table.out()).isEqualTo("No firing alerts on " + alertmanager.url() + ".\n");
    assertThat(json.json().path("firing").asInt()).isZero();
    assertThat(json.json().path("by_severity").isEmpty()).isTrue();
  }

  @Test
  void anHttpErrorExitsTwo() {
    alertmanager = new FakeServer(uri -> new FakeServer.Response(503, "not ready"));
    Run run = Run.of(dir, "alerts", "--alertmanager", alertmanager.url());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .isEqualTo(
            "conea-report alerts: Alertmanager at "
                + alertmanager.url()
                + " answered HTTP 503 to /api/v2/alerts?active=true&silenced=false&inhibited=false:"
                + " not ready\n");
  }
}
