package io.conea.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code slo} against a fake Prometheus that answers each SLI query with a chosen value. */
class SloCommandTest {

  private static final double EXACT = 1e-9;

  @TempDir Path dir;

  /** The value each kind of query answers, by window: "availability 30d", "slow 1h", ... */
  private final Map<String, FakeServer.Response> answers = new HashMap<>();

  private FakeServer prometheus;

  @AfterEach
  void stop() {
    if (prometheus != null) {
      prometheus.close();
    }
  }

  private void answer(String key, double value) {
    answers.put(key, FakeServer.value(value));
  }

  /** Healthy: 99.95% available, p95 0.3 s with 2% slower than 0.5 s, 0.05% errors. */
  private void healthy() {
    for (String window : List.of("30d", "1h", "7d")) {
      answer("availability " + window, 0.9995);
      answer("latency " + window, 0.3);
      answer("slow " + window, 0.02);
      answer("error_rate " + window, 0.0005);
    }
  }

  private String start() {
    prometheus = new FakeServer(respond(answers));
    return prometheus.url();
  }

  private static Function<URI, FakeServer.Response> respond(
      Map<String, FakeServer.Response> answers) {
    return uri -> {
      if (!uri.getPath().equals("/api/v1/query")) {
        return new FakeServer.Response(404, "404 page not found");
      }
      String query = FakeServer.params(uri).get("query");
      String window = query.replaceAll("(?s).*\\[([0-9a-z]+)\\].*", "$1");
      String kind;
      if (query.contains("le=~")) {
        kind = "slow";
      } else if (query.contains("histogram_quantile")) {
        kind = "latency";
      } else if (query.contains("status!~")) {
        kind = "availability";
      } else if (query.contains("status=~")) {
        kind = "error_rate";
      } else {
        kind = "other";
      }
      return answers.getOrDefault(kind + " " + window, FakeServer.empty());
    };
  }

  @Test
  void everySloMetExitsZeroWithTheGuidesKeys() {
    healthy();
    Run run = Run.of(dir, "slo", "--prometheus", start(), "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err()).isEmpty();
    JsonNode json = run.json();
    assertThat(json.path("prometheus").asText()).isEqualTo(prometheus.url());
    assertThat(json.path("slo_file").asText()).isEqualTo("built-in slos.yml");
    assertThat(json.path("evaluated_at").asText()).isEqualTo("2025-05-26T10:30:00Z");
    assertThat(json.path("time").asDouble()).isEqualTo(Run.NOW.getEpochSecond());
    assertThat(json.path("compliant").asBoolean()).isTrue();

    JsonNode availability = json.at("/slos/0");
    assertThat(availability.path("slo_name").asText()).isEqualTo("API Availability");
    assertThat(availability.path("sli").asText()).isEqualTo("availability");
    assertThat(availability.path("window").asText()).isEqualTo("30d");
    assertThat(availability.path("objective").asText()).isEqualTo("at_least");
    assertThat(availability.path("unit").asText()).isEqualTo("%");
    assertThat(availability.path("target").asDouble()).isEqualTo(99.9);
    assertThat(availability.path("current").asDouble()).isCloseTo(99.95, within(EXACT));
    assertThat(availability.path("compliant").asBoolean()).isTrue();
    assertThat(availability.path("margin").asDouble()).isCloseTo(0.05, within(EXACT));
    // 0.05% of the 0.1% allowed is spent; the last hour spends at half the sustainable pace.
    assertThat(availability.path("error_budget_remaining_percent").asDouble())
        .isCloseTo(50, within(1e-6));
    assertThat(availability.path("burn_rate_1h").asDouble()).isCloseTo(0.5, within(1e-6));
    assertThat(availability.path("query").asText())
        .isEqualTo(
            "sum(rate(http_requests_total{status!~\"5..\"}[30d]))\n/\n"
                + "sum(rate(http_requests_total[30d]))");
    assertThat(availability.has("error")).isFalse();

    JsonNode latency = json.at("/slos/1");
    assertThat(latency.path("slo_name").asText()).isEqualTo("API Latency");
    assertThat(latency.path("objective").asText()).isEqualTo("at_most");
    assertThat(latency.path("unit").isNull()).isTrue();
    assertThat(latency.path("target").asDouble()).isEqualTo(0.5);
    assertThat(latency.path("target_percentile").asDouble()).isEqualTo(95);
    assertThat(latency.path("current").asDouble()).isEqualTo(0.3);
    assertThat(latency.path("margin").asDouble()).isCloseTo(0.2, within(EXACT));
    // 2% slower than 0.5 s of the 5% allowed.
    assertThat(latency.path("error_budget_remaining_percent").asDouble())
        .isCloseTo(60, within(1e-6));
    assertThat(latency.path("burn_rate_1h").asDouble()).isCloseTo(0.4, within(1e-6));

    JsonNode errors = json.at("/slos/2");
    assertThat(errors.path("slo_name").asText()).isEqualTo("Error Budget");
    assertThat(errors.path("objective").asText()).isEqualTo("at_most");
    assertThat(errors.path("target").asDouble()).isEqualTo(0.1);
    assertThat(errors.path("current").asDouble()).isCloseTo(0.05, within(EXACT));
    assertThat(errors.path("margin").asDouble()).isCloseTo(0.05, within(EXACT));
    assertThat(errors.path("error_budget_remaining_percent").asDouble())
        .isCloseTo(50, within(1e-6));
    assertThat(errors.path("burn_rate_1h").asDouble()).isCloseTo(0.5, within(1e-6));

    // One instant for every query: the SLI, the 1 h burn rate and the latency's slow share.
    assertThat(prometheus.requests)
        .hasSize(2 + 3 + 2)
        .allSatisfy(
            uri -> assertThat(FakeServer.params(uri)).containsEntry("time", "1748255400.000"));
    assertThat(prometheus.queries())
        .contains(
            "1 - (sum(rate(http_request_duration_seconds_bucket{le=~\"0\\\\.50*\"}[30d]))"
                + " / sum(rate(http_request_duration_seconds_count[30d])))");
  }

  @Test
  void theTableShowsEachSloOnOneLine() {
    healthy();
    Run run = Run.of(dir, "slo", "--prometheus", start());

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .startsWith(
            "SLOs of built-in slos.yml on " + prometheus.url() + " at 2025-05-26T10:30:00Z\n\n")
        .contains(
            "SLO               SLI           WINDOW  TARGET    CURRENT  COMPLIANT     MARGIN"
                + "  BUDGET LEFT  BURN RATE 1H\n")
        .contains(
            "API Availability  availability  30d     >= 99.9%   99.95%  yes        +0.050 pp"
                + "        50.0%          0.50\n")
        .contains(
            "API Latency       latency       30d     <= 0.5        0.3  yes          +0.2000"
                + "        60.0%          0.40\n")
        .contains(
            "Error Budget      error_rate    30d     <= 0.1%     0.05%  yes        +0.050 pp"
                + "        50.0%          0.50\n")
        .endsWith("\nAll 3 SLOs met.\n");
  }

  @Test
  void aMissedSloExitsOneWithAOneLineReason() {
    healthy();
    answer("availability 30d", 0.99);
    answer("error_rate 30d", 0.01);
    Run run = Run.of(dir, "slo", "--prometheus", start(), "--json");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .isEqualTo(
            "conea-report slo: 2 of 3 SLOs missed: API Availability (99% < 99.9%), Error Budget"
                + " (1% > 0.1%)\n");
    JsonNode json = run.json();
    assertThat(json.path("compliant").asBoolean()).isFalse();
    assertThat(json.at("/slos/0/compliant").asBoolean()).isFalse();
    assertThat(json.at("/slos/0/margin").asDouble()).isCloseTo(-0.9, within(EXACT));
    // 1% bad of the 0.1% allowed: ten budgets spent, nine more than there were.
    assertThat(json.at("/slos/0/error_budget_remaining_percent").asDouble())
        .isCloseTo(-900, within(1e-6));
    assertThat(json.at("/slos/1/compliant").asBoolean()).isTrue();
    assertThat(json.at("/slos/2/margin").asDouble()).isCloseTo(-0.9, within(EXACT));
  }

  @Test
  void aSlowP95MissesTheLatencySlo() {
    healthy();
    answer("latency 30d", 0.75);
    answer("slow 30d", 0.08);
    Run run = Run.of(dir, "slo", "--prometheus", start());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("API Latency (0.75 > 0.5)");
    assertThat(run.out())
        .contains(
            "API Latency       latency       30d     <= 0.5       0.75  no           -0.2500"
                + "       -60.0%          0.40")
        .endsWith("\n1 of 3 SLOs missed.\n");
  }

  @Test
  void noDataExitsTwoAndStillReportsTheOtherSlos() {
    healthy();
    answers.remove("latency 30d");
    answer("error_rate 30d", Double.NaN);
    Run run = Run.of(dir, "slo", "--prometheus", start(), "--json");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .startsWith(
            "conea-report slo: 2 SLOs cannot be evaluated; SLO API Latency: no data: the SLI's"
                + " query returned an empty result: histogram_quantile(0.95,")
        .endsWith("\n")
        .hasLineCount(1);
    JsonNode json = run.json();
    assertThat(json.path("compliant").asBoolean()).isFalse();
    assertThat(json.at("/slos/0/compliant").asBoolean()).isTrue();
    assertThat(json.at("/slos/1/current").isNull()).isTrue();
    assertThat(json.at("/slos/1/compliant").isNull()).isTrue();
    assertThat(json.at("/slos/1/error").asText()).startsWith("no data: the SLI's query returned");
    assertThat(json.at("/slos/2/error").asText())
        .startsWith("no data: the SLI is NaN (no requests in 30d?)");
  }

  @Test
  void aBurnRateWithoutTrafficInTheLastHourIsLeftOut() {
    healthy();
    answer("availability 1h", Double.NaN);
    answers.remove("slow 1h");
    Run run = Run.of(dir, "slo", "--prometheus", start(), "--json");

    assertThat(run.exitCode()).isZero();
    assertThat(run.json().at("/slos/0/burn_rate_1h").isNull()).isTrue();
    assertThat(run.json().at("/slos/1/burn_rate_1h").isNull()).isTrue();
    assertThat(run.json().at("/slos/2/burn_rate_1h").asDouble()).isCloseTo(0.5, within(1e-6));
  }

  @Test
  void theWindowOptionReplacesEverySlosWindow() {
    healthy();
    Run run = Run.of(dir, "slo", "--prometheus", start(), "--window", "7d", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.json().path("slos").findValuesAsText("window")).containsOnly("7d");
    assertThat(prometheus.queries()).noneMatch(q -> q.contains("[30d]"));
    assertThat(prometheus.queries()).filteredOn(q -> q.contains("[7d]")).hasSize(4);
  }

  @Test
  void aQueryErrorExitsTwoWithPrometheusMessage() {
    answers.put(
        "availability 30d",
        new FakeServer.Response(
            400,
            "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"1:5: parse error:"
                + " unexpected\"}"));
    Run run = Run.of(dir, "slo", "--prometheus", start());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .startsWith("conea-report slo: Prometheus rejected the query sum(rate(")
        .endsWith(": bad_data: 1:5: parse error: unexpected\n");
  }

  @Test
  void anHttpErrorThatIsNotPrometheusExitsTwo() {
    answers.put(
        "availability 30d",
        new FakeServer.Response(502, "<html><body>\n<h1>Bad Gateway</h1>\n</body></html>"));
    Run run = Run.of(dir, "slo", "--prometheus", start());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .isEqualTo(
            "conea-report slo: Prometheus at "
                + prometheus.url()
                + " answered HTTP 502 to /api/v1/query, not a Prometheus API answer: <html><body>"
                + " <h1>Bad Gateway</h1> </body></html>\n");
  }

  @Test
  void anUnreachablePrometheusExitsTwo() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Run run = Run.of(dir, "slo", "--prometheus", "http://127.0.0.1:" + port + "/");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .startsWith("conea-report slo: cannot reach Prometheus at http://127.0.0.1:" + port + ": ")
        .hasLineCount(1);
  }

  @Test
  void aBadSloFileExitsTwoBeforeAnyQuery() throws IOException {
    SloFileTest.write(
        dir, "bad.yml", "slis: {a: {metric: up}}\nslos: [{name: x, sli: b, target: 1}]");
    Run run = Run.of(dir, "slo", "--prometheus", start(), "--slos", "bad.yml");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .isEqualTo("conea-report slo: bad.yml: slos[0] (x): sli: b is not in slis: (a)\n");
    assertThat(prometheus.requests).isEmpty();
  }

  @Test
  void aRecordedSliIsReadAsWrittenWithoutABurnRate() throws IOException {
    SloFileTest.write(
        dir,
        "recorded.yml",
        "slis: {a: {metric: \"job:sli_availability:ratio_rate30d{job=\\\"conea-api\\\"}\"}}\n"
            + "slos: [{name: x, sli: a, target: 99}]");
    prometheus = new FakeServer(uri -> FakeServer.value(0.995));
    Run run =
        Run.of(dir, "slo", "--prometheus", prometheus.url(), "--slos", "recorded.yml", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(prometheus.queries())
        .containsExactly("job:sli_availability:ratio_rate30d{job=\"conea-api\"}");
    assertThat(run.json().at("/slos/0/current").asDouble()).isCloseTo(99.5, within(EXACT));
    assertThat(run.json().at("/slos/0/error_budget_remaining_percent").asDouble())
        .isCloseTo(50, within(1e-6));
    assertThat(run.json().at("/slos/0/burn_rate_1h").isNull()).isTrue();
  }

  @Test
  void aSeriesPerJobIsNotOneSli() throws IOException {
    SloFileTest.write(
        dir,
        "jobs.yml",
        "slis: {a: {metric: \"sum by (job) (rate(x[5m]))\"}}\nslos: [{name: x, sli: a, target: 1}]");
    prometheus =
        new FakeServer(
            uri -> FakeServer.vector(Map.of(Map.of("job", "a"), 0.5, Map.of("job", "b"), 0.7)));
    Run run = Run.of(dir, "slo", "--prometheus", prometheus.url(), "--slos", "jobs.yml");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .isEqualTo(
            "conea-report slo: SLO x: the SLI's query returned 2 series, not one (aggregate it,"
                + " e.g. with sum): sum by (job) (rate(x[30d]))\n");
  }
}
