package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.withinPercentage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.conea.report.ConeaReport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the demo service and a real Prometheus that scrapes it with the shipped local configuration
 * and rules, sends a known mix of requests, and evaluates the guide's queries, the dashboards and
 * the rules through Prometheus' HTTP API.
 *
 * <p>Why the values are exact: rate() and increase() extrapolate from the samples in the window, by
 * a factor that depends only on the first and last sample times of a series and on how close its
 * first value is to zero. Every series is therefore created before Prometheus starts, with twice
 * the counts the measured mix adds afterwards, so that all series of the target share one factor.
 * Ratios then equal the ratios of the requests sent, and absolute rates are the counts sent times
 * that factor, which the health endpoint's rate gives. Queries are evaluated at the time of the
 * last scrape, so that all of them see the same samples.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MonitoringEndToEndIT {

  /** One request of the mix, and the status the demo answers it with. */
  record Call(String method, String path, String body, int status) {}

  private static final String HEALTH = "/api/v1/health";
  private static final String CHAT = "/api/v1/ai/chat";
  private static final String SLOW = "/api/v1/slow";
  private static final String METRICS = "/metrics";

  /** Requests per endpoint label in one round of the mix (the scrapes of /metrics come on top). */
  private static final Map<String, Integer> ROUND_BY_ENDPOINT =
      Map.ofEntries(
          Map.entry(HEALTH, 30),
          Map.entry("/api/v1/users/{id}", 10),
          Map.entry("/api/v1/jobs/{jobType}", 5),
          Map.entry("/api/v1/fail", 10),
          Map.entry(CHAT, 12),
          Map.entry(SLOW, 22),
          Map.entry("NOT_FOUND", 3));

  private static final int ROUND_TOTAL = 92;
  private static final int ROUND_ERRORS = 10;
  private static final int ROUND_USERS = 10;
  private static final int ROUND_SLOW_300MS = 20;
  private static final int ROUND_SLOW_700MS = 2;

  /** A model the round chats with, its provider, and how many chat requests it gets. */
  record Model(String name, String provider, int requests) {}

  private static final List<Model> MODELS =
      List.of(
          new Model("gpt-4", "openai", 6),
          new Model("claude-3-5-sonnet", "anthropic", 4),
          new Model("gemini-1.5-pro", "google", 2));

  private static final Pattern TRACE_ID = Pattern.compile("[0-9a-f]{32}");

  /** The job that scrapes node exporter, as in prometheus.yml, and its up series. */
  private static final String NODE_JOB = "node-exporter";

  private static final String NODE_UP = "up{job=\"" + NODE_JOB + "\"}";

  /** The CPU rate window of the capacity check: short, so that Prometheus holds all of it. */
  private static final int RATE_WINDOW_SECONDS = 15;

  private static final double EXACT = 1e-9;

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private Path dir;
  private DemoProcess demo;
  private PrometheusProcess prometheus;
  private double prometheusStarted;

  /** Node exporter, scraped by the same Prometheus as job node-exporter (null when absent). */
  private ServerProcess nodeExporter;

  /** Node exporter's own figures, read from the end of the set-up on. */
  private NodePoller nodePoller;

  /** When every query is evaluated: the time of the last scrape of the metrics target. */
  private double evalTime;

  /** Requests to /metrics (the scrapes) counted between the first and last sample. */
  private double scrapes;

  /** The rate that one request sent in the measured round shows as (the extrapolation factor). */
  private double perRequest;

  /** Every query evaluated at {@link #evalTime} and its answer, printed after the run. */
  private final Map<String, String> figures = new LinkedHashMap<>();

  private final Map<String, Long> tokensByModel = new TreeMap<>();
  private final Map<String, Double> costByModel = new TreeMap<>();
  private final List<Duration> chatLatencies = new ArrayList<>();

  @BeforeAll
  void startTheDemoAndPrometheusAndSendTheMix(@TempDir Path tempDir) throws Exception {
    // The demo's and Prometheus' logs and Prometheus' storage, removed after the class.
    dir = tempDir;
    Path jar =
        Path.of(System.getProperty("demo.jar", "../examples/demo-service/target/conea-demo.jar"))
            .toAbsolutePath()
            .normalize();
    Tools.prometheus();
    demo = DemoProcess.start(jar, dir, http, Map.of());
    createEverySeries();
    if (Tools.nodeExporterExpected()) {
      nodeExporter = startNodeExporter();
    }
    startPrometheus();
    // Exemplars go only where every Prometheus from 2.x on accepts them (not on _count).
    assertThat(scrapeRejection()).as("why Prometheus rejects the scrape").isNull();

    double roundStarted = now();
    sendRound(true);
    // Jobs finish 20 ms after their 202, and a response may leave before it is counted.
    DemoProcess.pause(Duration.ofMillis(300));
    awaitScrapesSince(now(), 2);
    assertThat(now() - roundStarted).as("seconds the measured round took").isLessThan(30);

    evalTime = lastScrapeTime();
    JsonNode metricsSamples =
        prometheus.query("http_requests_total{endpoint=\"/metrics\"}[10m]", evalTime).result();
    for (JsonNode series : metricsSamples) {
      JsonNode values = series.path("values");
      scrapes += values.get(values.size() - 1).get(1).asDouble() - values.get(0).get(1).asDouble();
    }
    double healthRate = value("sum(rate(http_requests_total{endpoint=\"" + HEALTH + "\"}[5m]))");
    perRequest = healthRate / ROUND_BY_ENDPOINT.get(HEALTH);
    if (nodeExporter != null) {
      // After the measured round, so that polling cannot slow down any request of it.
      nodePoller = NodePoller.start(http, nodeExporter.url());
    }
  }

  /** Before Prometheus starts: every series exists, at twice the counts of the measured round. */
  private void createEverySeries() {
    sendRound(false);
    sendRound(false);
    for (int i = 0; i < 40; i++) {
      send(new Call("GET", METRICS, null, 200), i % 2 == 0 ? demo.servletPort : demo.nettyPort);
    }
    DemoProcess.pause(Duration.ofMillis(300));
  }

  private void startPrometheus() throws IOException {
    prometheus = PrometheusProcess.start(writeConfig(), dir, http);
    prometheusStarted = now();
    awaitScrapesSince(prometheusStarted - 1, 3);
  }

  /** The error of a target whose last scrape failed, or null when both were scraped. */
  private String scrapeRejection() {
    for (JsonNode target : prometheus.targets().body().at("/data/activeTargets")) {
      if (!"up".equals(target.path("health").asText())) {
        return target.path("lastError").asText();
      }
    }
    return null;
  }

  @AfterAll
  void stop() {
    System.out.printf(
        Locale.ROOT,
        "conea-monitoring end to end: %d scrapes of /metrics counted, one request reads as %.6f/s"
            + " in a 5m rate (x300 = %.4f)%n",
        (long) scrapes,
        perRequest,
        perRequest * 300);
    figures.forEach((expr, answer) -> System.out.printf("  %s%n    = %s%n", expr, answer));
    if (nodePoller != null) {
      nodePoller.close();
    }
    if (prometheus != null) {
      prometheus.close();
    }
    if (nodeExporter != null) {
      nodeExporter.close();
    }
    if (demo != null) {
      demo.close();
    }
  }

  @Test
  void extrapolationFactorIsSmallAndTheMetricsAreNotScrapedTwice() {
    // 300 s of rate window: one request in the window reads as 1/300 per second, slightly more
    // after extrapolation towards the window's edges (at most half a scrape interval each side).
    assertThat(perRequest * 300).isBetween(1.0, 1.5);
    assertThat(scrapes).isPositive();
    assertThat(value("count(up{job=\"conea-api\"} == 1)")).isEqualTo(2);
    assertThat(value("count(count by (instance) (http_requests_total))")).isEqualTo(1);
  }

  @Test
  void requestRateByEndpointIsTheMix() {
    Map<String, Double> byEndpoint =
        vector("sum(rate(http_requests_total[5m])) by (endpoint)", "endpoint");

    Map<String, Double> expected = new TreeMap<>();
    ROUND_BY_ENDPOINT.forEach((endpoint, n) -> expected.put(endpoint, n * perRequest));
    expected.put(METRICS, scrapes * perRequest);
    assertThat(byEndpoint.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    expected.forEach(
        (endpoint, rate) ->
            assertThat(byEndpoint.get(endpoint)).as(endpoint).isCloseTo(rate, within(EXACT)));
  }

  @Test
  void errorRateIsTheShareOfServerErrors() {
    double expected = ROUND_ERRORS / (ROUND_TOTAL + scrapes);

    assertThat(
            value(
                "sum(rate(http_requests_total{status=~\"5..\"}[5m])) /"
                    + " sum(rate(http_requests_total[5m]))"))
        .isCloseTo(expected, within(EXACT));
    assertThat(
            value(
                "sum(rate(http_requests_total{status=~\"5..\"}[5m])) /"
                    + " sum(rate(http_requests_total[5m])) * 100"))
        .isCloseTo(expected * 100, within(EXACT));
    assertThat(value(sli("error_rate"))).isCloseTo(expected, within(EXACT));
    assertThat(value(sli("availability"))).isCloseTo(1 - expected, within(EXACT));
  }

  @Test
  void p95LatencyInterpolatesInTheBucketOfTheSlowRequests() {
    // Everything but /slow answers within 0.25 s; 20 requests sleep 300 ms, 2 sleep 700 ms.
    double total = ROUND_TOTAL + scrapes;
    double fast = total - ROUND_SLOW_300MS - ROUND_SLOW_700MS;
    double rank = 0.95 * total;
    assertThat(rank).isBetween(fast, fast + ROUND_SLOW_300MS);
    double expected = 0.25 + (0.5 - 0.25) * (rank - fast) / ROUND_SLOW_300MS;

    assertThat(
            value(
                "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by"
                    + " (le))"))
        .isCloseTo(expected, within(EXACT));
    assertThat(value(sli("latency"))).isCloseTo(expected, within(EXACT));

    Map<String, Double> byEndpoint =
        vector(
            "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le,"
                + " endpoint))",
            "endpoint");
    // /slow alone: rank 20.9 of 22 lies among the two 700 ms requests, in (0.5 s, 1 s].
    assertThat(byEndpoint.get(SLOW)).isCloseTo(0.5 + 0.5 * (0.95 * 22 - 20) / 2, within(EXACT));
    assertThat(byEndpoint.get(HEALTH)).isLessThan(0.25);
  }

  @Test
  void activeUsersCountsUserActivityInFiveMinutes() {
    assertThat(value("sum(increase(user_activity_total[5m]))"))
        .isCloseTo(ROUND_USERS * perRequest * 300, within(EXACT));
  }

  @Test
  void dataProcessingJobsCountByTypeAndOutcome() {
    Map<String, Double> jobs =
        vector(
            "sum(rate(data_processing_jobs_total[5m])) by (job_type, status)",
            "job_type",
            "status");

    // Each job type has both outcomes from its first job on, so "report failure" reads 0.
    Map<String, Integer> expected =
        Map.of("etl success", 3, "etl failure", 1, "report success", 1, "report failure", 0);
    assertThat(jobs.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    expected.forEach(
        (key, n) -> assertThat(jobs.get(key)).as(key).isCloseTo(n * perRequest, within(EXACT)));
  }

  @Test
  void aiRequestsSplitByProviderAndModel() {
    Map<String, Double> byProviderModel =
        vector("sum(rate(ai_model_requests_total[5m])) by (provider, model)", "provider", "model");

    Map<String, Double> expected = new TreeMap<>();
    MODELS.forEach(
        model ->
            expected.put(model.provider() + " " + model.name(), model.requests() * perRequest));
    assertThat(byProviderModel.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    expected.forEach(
        (key, rate) -> assertThat(byProviderModel.get(key)).as(key).isCloseTo(rate, within(EXACT)));
  }

  @Test
  void tokenUsageAndCostAreWhatTheModelsAnswered() {
    Map<String, Double> tokens = vector("sum(increase(ai_tokens_total[1h])) by (model)", "model");
    Map<String, Double> cost = vector("sum(increase(ai_cost_usd_total[1h])) by (model)", "model");

    assertThat(tokens.keySet()).containsExactlyInAnyOrderElementsOf(tokensByModel.keySet());
    tokensByModel.forEach(
        (model, sent) ->
            assertThat(tokens.get(model))
                .as(model)
                .isCloseTo(sent * perRequest * 300, within(1e-6)));
    assertThat(cost.keySet()).containsExactlyInAnyOrderElementsOf(costByModel.keySet());
    costByModel.forEach(
        (model, usd) ->
            assertThat(cost.get(model))
                .as(model)
                .isCloseTo(usd * perRequest * 300, withinPercentage(1e-6)));
    assertThat(value("sum(increase(ai_cost_usd_total[24h]))"))
        .isCloseTo(
            costByModel.values().stream().mapToDouble(Double::doubleValue).sum() * perRequest * 300,
            withinPercentage(1e-6));
  }

  @Test
  void aiProcessingTimeP95LiesWithinTheSimulatedLatency() {
    Map<String, Double> p95 =
        vector(
            "histogram_quantile(0.95, sum(rate(ai_processing_duration_seconds_bucket[5m])) by (le,"
                + " model))",
            "model");

    assertThat(p95.keySet())
        .containsExactlyInAnyOrderElementsOf(MODELS.stream().map(Model::name).toList());
    // The demo's model answers in 20 to 120 ms: within the first two buckets (0.1 s, 0.25 s).
    p95.forEach((model, seconds) -> assertThat(seconds).as(model).isBetween(0.02, 0.25));
    if (chatLatencies.stream().allMatch(latency -> latency.toMillis() < 100)) {
      // Every answer arrived within 0.1 s, so all sit in the first bucket: 95% of the way up it.
      p95.forEach(
          (model, seconds) -> assertThat(seconds).as(model).isCloseTo(0.095, within(EXACT)));
    }
  }

  @Test
  void errorBudgetRemainingAndBurnRateFollowTheErrors() {
    double errorRatio = ROUND_ERRORS / (ROUND_TOTAL + scrapes);
    List<Assets.Query> guide = Assets.guideQueries("error-budget.promql");

    assertThat(value(guide.get(0).expr())).isCloseTo((1 - errorRatio) * 100 - 99.9, within(EXACT));
    assertThat(value(guide.get(1).expr())).isCloseTo(errorRatio / 0.001, within(EXACT));
  }

  @Test
  void concurrentConnectionsCountOpenNettyConnections() throws IOException {
    String query = "sum(tcp_connections{state=\"established\"})";
    awaitScrapesSince(now(), 1);
    double before = value(query, lastScrapeTime());
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", demo.nettyPort), 2000);
        sockets.add(socket);
      }
      awaitScrapesSince(now() + 0.2, 1);
      assertThat(value(query, lastScrapeTime())).isEqualTo(before + 3);
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
    awaitScrapesSince(now() + 0.2, 1);
    assertThat(value(query, lastScrapeTime())).isEqualTo(before);
  }

  @Test
  void recordingRulesAgreeWithTheGuidesSlis() {
    Map<String, String> recordedToGuide =
        Map.of(
            "job:sli_error_rate:ratio_rate5m", sli("error_rate"),
            "job:sli_availability:ratio_rate5m", sli("availability"),
            "job:sli_latency_seconds:p95_rate5m", sli("latency"));
    awaitScrapesSince(now(), 2);
    for (Map.Entry<String, String> entry : recordedToGuide.entrySet()) {
      JsonNode sample = only(prometheus.query(entry.getKey(), now()).result());
      assertThat(sample.at("/metric/job").asText()).isEqualTo("conea-api");
      double recordedAt = sample.at("/value/0").asDouble();
      double recorded = sample.at("/value/1").asDouble();
      // The rule ran at recordedAt; a scrape landing during that evaluation can add one sample.
      assertThat(recorded)
          .as(entry.getKey())
          .isCloseTo(value(entry.getValue(), recordedAt), withinPercentage(5));
    }
    double errorRate = value("job:sli_error_rate:ratio_rate30d{job=\"conea-api\"}", now());
    assertThat(errorRate).isBetween(0.05, 0.15);
    assertThat(value("job:slo_availability_error_budget_remaining:ratio", now()))
        .isCloseTo(1 - value("job:sli_error_rate:ratio_rate30d", now()) / 0.001, within(1e-6));
    assertThat(value("job:sli_latency_slow_requests:ratio_rate1h", now()))
        .isCloseTo(ROUND_SLOW_700MS / (ROUND_TOTAL + scrapes), withinPercentage(10));
  }

  @Test
  void availabilityBurnAlertsFireAndLatencyAlertsStaySilent() {
    Map<String, String> states = new TreeMap<>();
    for (JsonNode alert : prometheus.alerts().body().at("/data/alerts")) {
      states.put(alert.at("/labels/alertname").asText(), alert.path("state").asText());
    }

    // About 10% of requests fail: far past every availability burn factor, over every window.
    assertThat(states)
        .containsEntry("AvailabilityErrorBudgetBurn1h", "firing")
        .containsEntry("AvailabilityErrorBudgetBurn6h", "firing")
        .containsEntry("AvailabilityErrorBudgetBurn1d", "firing")
        .containsEntry("AvailabilityErrorBudgetBurn3d", "firing")
        // Above 5%, but not yet for the 5 minutes the guide asks.
        .containsEntry("HighErrorRate", "pending");
    // About 2% of requests are slower than 0.5 s, within the 5% budget; p95 is below 1 s.
    assertThat(states.keySet())
        .noneMatch(name -> name.startsWith("Latency"))
        .doesNotContain("HighLatency", "ServiceDown");
  }

  @Test
  void everyScrapeOfBothTargetsSucceeded() {
    Map<String, Double> up = vector("min_over_time(up{job=\"conea-api\"}[10m])", "instance");

    assertThat(up)
        .containsOnlyKeys("127.0.0.1:" + demo.servletPort, "127.0.0.1:" + demo.nettyPort)
        .allSatisfy((instance, value) -> assertThat(value).as(instance).isEqualTo(1));
  }

  @Test
  void exemplarsCarryTheTraceIdsThatGrafanaLinksToJaeger() {
    PrometheusProcess.Answer answer =
        prometheus.exemplars(
            "http_request_duration_seconds_bucket", prometheusStarted - 600, now());

    assertThat(answer.status()).isEqualTo(200);
    List<String> traceIds = new ArrayList<>();
    for (JsonNode series : answer.body().path("data")) {
      series.path("exemplars").forEach(e -> traceIds.add(e.at("/labels/trace_id").asText()));
    }
    assertThat(traceIds).isNotEmpty().allMatch(id -> TRACE_ID.matcher(id).matches());
  }

  @Test
  void everyDashboardAndRuleExpressionParses() {
    List<Assets.Query> queries = Assets.allQueries();
    assertThat(queries).hasSizeGreaterThan(60);
    for (Assets.Query query : queries) {
      PrometheusProcess.Answer answer = prometheus.query(query.expr(), evalTime);
      assertThat(answer.status())
          .as("%s / %s: %s%n%s", query.source(), query.name(), query.expr(), answer.body())
          .isEqualTo(200);
    }
  }

  @Test
  void everyDashboardExpressionReturnsData() {
    double at = now();
    for (Assets.Panel panel : Assets.panels()) {
      for (String expr : panel.exprs()) {
        assertThat(prometheus.query(expr, at).result())
            .as("%s / %s: %s", panel.dashboard(), panel.title(), expr)
            .isNotEmpty();
      }
    }
  }

  // ---- node exporter and conea-report

  /**
   * conea-report and node exporter, against the same demo and Prometheus. A nested class, so that
   * these run after the checks above, whose figures hold for the time right after the measured
   * round.
   */
  @Nested
  class ReportAndNodeExporter {

    @Test
    void guideSystemQueriesAndResourceAlertsReadNodeExporter() {
      requireNodeExporter();
      awaitScrapesOf(NODE_UP, now(), 2);
      double at = now();

      List<Assets.Query> system = Assets.guideQueries("system-queries.promql");
      assertThat(system)
          .extracting(Assets.Query::name)
          .containsExactly("CPU使用率", "メモリ使用率", "ディスク使用率", "ネットワークトラフィック");
      for (Assets.Query query : system) {
        // The network paragraph holds two expressions, one a line.
        for (String expr : query.expr().split("\n")) {
          PrometheusProcess.Answer answer = prometheus.query(expr, at);
          assertThat(answer.status()).as("%s: %s", expr, answer.body()).isEqualTo(200);
          assertThat(answer.result()).as("%s / %s", query.name(), expr).isNotEmpty();
          figures.put(expr, answer.result().toString());
          for (JsonNode sample : answer.result()) {
            double value = sample.at("/value/1").asDouble();
            assertThat(sample.at("/metric/instance").asText()).isEqualTo(nodeExporter.address());
            assertThat(value).as(expr).isGreaterThanOrEqualTo(0);
            if (!expr.startsWith("rate(node_network")) {
              assertThat(value).as(expr).isLessThanOrEqualTo(100);
            }
          }
        }
      }

      Pattern threshold = Pattern.compile("(?s)\\s*\\((.*)\\)\\s*>\\s*([0-9.]+)\\s*");
      for (String name : List.of("HighCPUUsage", "HighMemoryUsage", "HighDiskUsage")) {
        String expr =
            Assets.alertRules().stream()
                .filter(rule -> rule.path("alert").asText().equals(name))
                .findFirst()
                .orElseThrow()
                .path("expr")
                .asText();
        Matcher m = threshold.matcher(expr);
        assertThat(m.matches()).as("%s: (usage) > threshold: %s", name, expr).isTrue();
        JsonNode usage = prometheus.query(m.group(1), at).result();
        assertThat(usage).as("%s without its threshold: %s", name, m.group(1)).isNotEmpty();
        PrometheusProcess.Answer alert = prometheus.query(expr, at);
        assertThat(alert.status()).as(name).isEqualTo(200);
        // The alert's expression keeps exactly the series above the threshold.
        double limit = Double.parseDouble(m.group(2));
        long above = 0;
        for (JsonNode sample : usage) {
          above += sample.at("/value/1").asDouble() > limit ? 1 : 0;
        }
        assertThat(alert.result()).as(name).hasSize((int) above);
        figures.put(name + " without its threshold", usage.toString());
      }
    }

    @Test
    void capacityReportAgreesWithNodeExportersOwnMetrics() {
      requireNodeExporter();
      // A full window of samples in Prometheus, and polls of node exporter from before it began.
      double range = RATE_WINDOW_SECONDS;
      nodePoller.awaitPollAfter(0);
      double since = Math.max(prometheusStarted + 1, nodePoller.firstTime());
      DemoProcess.pause(Duration.ofMillis((long) Math.max(0, (since + range + 1 - now()) * 1000)));
      // Right after a scrape, so that no sample up to the report's instant arrives after its
      // queries.
      awaitScrapesOf(NODE_UP, now(), 1);

      ReportRun run =
          report(
              "capacity",
              "--prometheus",
              prometheus.url(),
              "--rate-window",
              (int) range + "s",
              "--json");

      assertThat(run.exitCode()).as(run.err()).isZero();
      JsonNode json = run.json();
      double at = json.path("time").asDouble();
      assertThat(json.path("rate_window").asText()).isEqualTo((int) range + "s");
      nodePoller.awaitPollAfter(at + 0.2);

      // CPU: rate() over the samples Prometheus holds, from node exporter's own counters at the
      // times of those samples; the same formula: 100 - (idle seconds per second) * 100.
      JsonNode idleSeries =
          prometheus
              .query(
                  "node_cpu_seconds_total{job=\""
                      + NODE_JOB
                      + "\", mode=\"idle\"}["
                      + (int) range
                      + "s]",
                  at)
              .result();
      assertThat(idleSeries).isNotEmpty();
      double idleRates = 0;
      for (JsonNode series : idleSeries) {
        String cpu = series.at("/metric/cpu").asText();
        JsonNode values = series.path("values");
        double first = values.get(0).get(0).asDouble();
        double last = values.get(values.size() - 1).get(0).asDouble();
        idleRates +=
            extrapolatedRate(
                nodePoller.at(first, s -> s.idleByCpu().get(cpu)),
                nodePoller.at(last, s -> s.idleByCpu().get(cpu)),
                first,
                last,
                values.size(),
                at - range,
                at);
      }
      double cpu = 100 - idleRates / idleSeries.size() * 100;
      // Memory and disk: gauges, read from the last sample at or before the report's instant.
      double memory =
          nodePoller.at(
              value("max(timestamp(node_memory_MemAvailable_bytes{job=\"" + NODE_JOB + "\"}))", at),
              NodePoller.Sample::memoryUsage);
      double disk =
          nodePoller.at(
              value("max(timestamp(node_filesystem_free_bytes{job=\"" + NODE_JOB + "\"}))", at),
              NodePoller.Sample::diskUsage);
      figures.put(
          String.format(Locale.ROOT, "node exporter's own figures at %.3f", at),
          String.format(Locale.ROOT, "CPU %.3f, memory %.3f, disk %.3f", cpu, memory, disk));

      Map<String, Double> expected =
          Map.of("CPU Usage", cpu, "Memory Usage", memory, "Disk Usage", disk);
      JsonNode instance = json.path("instances").path(nodeExporter.address());
      assertThat(json.path("instances").size()).isEqualTo(1);
      expected.forEach(
          (key, value) -> {
            assertThat(value).as(key).isBetween(0.0, 100.0);
            assertThat(json.at("/average").path(key).asDouble())
                .as("average " + key)
                .isCloseTo(value, within(1.0));
            assertThat(instance.path(key).asDouble()).as(key).isCloseTo(value, within(1.0));
          });
    }

    @Test
    void sloReportOfTheShippedSlosIsTheMix() {
      // Right after a scrape, so that no sample up to the report's instant arrives after its
      // queries.
      awaitScrapesOf("up{instance=\"127.0.0.1:" + demo.servletPort + "\"}", now(), 1);
      ReportRun run =
          report("slo", "--prometheus", prometheus.url(), "--slos", shippedSlos(), "--json");

      JsonNode json = run.json();
      double at = json.path("time").asDouble();
      // The round's requests and every scrape of /metrics since Prometheus' first sample.
      double total = ROUND_TOTAL + scrapesUntil(at);
      double errors = ROUND_ERRORS / total;
      double slow = ROUND_SLOW_700MS / total;
      double fast = total - ROUND_SLOW_300MS - ROUND_SLOW_700MS;
      double rank = 0.95 * total;
      assertThat(rank).isBetween(fast, fast + ROUND_SLOW_300MS);
      double p95 = 0.25 + (0.5 - 0.25) * (rank - fast) / ROUND_SLOW_300MS;

      assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
      assertThat(json.path("compliant").asBoolean()).isFalse();
      assertThat(json.path("slos")).hasSize(3);

      JsonNode availability = json.at("/slos/0");
      assertThat(availability.path("slo_name").asText()).isEqualTo("API Availability");
      assertThat(availability.path("window").asText()).isEqualTo("30d");
      assertThat(availability.path("target").asDouble()).isEqualTo(99.9);
      assertThat(availability.path("current").asDouble())
          .isCloseTo((1 - errors) * 100, within(1e-7));
      assertThat(availability.path("compliant").asBoolean()).isFalse();
      assertThat(availability.path("margin").asDouble())
          .isCloseTo((1 - errors) * 100 - 99.9, within(1e-7));
      assertThat(availability.path("error_budget_remaining_percent").asDouble())
          .isCloseTo(100 * (1 - errors / 0.001), withinPercentage(1e-6));
      assertThat(availability.path("burn_rate_1h").asDouble())
          .isCloseTo(errors / 0.001, withinPercentage(1e-6));

      JsonNode latency = json.at("/slos/1");
      assertThat(latency.path("slo_name").asText()).isEqualTo("API Latency");
      assertThat(latency.path("target").asDouble()).isEqualTo(0.5);
      assertThat(latency.path("current").asDouble()).isCloseTo(p95, within(EXACT));
      assertThat(latency.path("compliant").asBoolean()).isTrue();
      assertThat(latency.path("margin").asDouble()).isCloseTo(0.5 - p95, within(EXACT));
      // The budget: 5% of the requests may take longer than 0.5 s; the two 700 ms ones do.
      assertThat(latency.path("error_budget_remaining_percent").asDouble())
          .isCloseTo(100 * (1 - slow / 0.05), within(1e-6));
      assertThat(latency.path("burn_rate_1h").asDouble())
          .isCloseTo(slow / 0.05, withinPercentage(1e-6));

      JsonNode errorRate = json.at("/slos/2");
      assertThat(errorRate.path("slo_name").asText()).isEqualTo("Error Budget");
      assertThat(errorRate.path("target").asDouble()).isEqualTo(0.1);
      assertThat(errorRate.path("current").asDouble()).isCloseTo(errors * 100, within(1e-7));
      assertThat(errorRate.path("compliant").asBoolean()).isFalse();
      assertThat(errorRate.path("margin").asDouble()).isCloseTo(0.1 - errors * 100, within(1e-7));
      assertThat(errorRate.path("error_budget_remaining_percent").asDouble())
          .isCloseTo(100 * (1 - errors / 0.001), withinPercentage(1e-6));
      assertThat(errorRate.path("burn_rate_1h").asDouble())
          .isCloseTo(errors / 0.001, withinPercentage(1e-6));

      assertThat(run.err())
          .startsWith("conea-report slo: 2 of 3 SLOs missed: API Availability (")
          .contains("% < 99.9%), Error Budget (")
          .endsWith("% > 0.1%)\n")
          .hasLineCount(1);
    }

    @Test
    void shippedSlosAreTheGuidesAndTheirErrorRateIsTheGuidesWhileThereAreErrors()
        throws IOException {
      JsonNode shipped = Assets.yaml(Path.of(shippedSlos()));
      JsonNode guideSlis = Assets.guideYaml("slis.yml").path("slis");

      assertThat(shipped.path("slos")).isEqualTo(Assets.guideYaml("slos.yml").path("slos"));
      assertThat(shipped.at("/slis/availability")).isEqualTo(guideSlis.path("availability"));
      assertThat(shipped.at("/slis/latency")).isEqualTo(guideSlis.path("latency"));
      String errorRate = shipped.at("/slis/error_rate/metric").asText();
      assertThat(errorRate).isNotEqualTo(guideSlis.at("/error_rate/metric").asText());
      assertThat(value(errorRate)).isEqualTo(value(guideSlis.at("/error_rate/metric").asText()));
    }

    @Test
    void sloReportExitsZeroWhenEverySloIsMet(@TempDir Path files) throws IOException {
      // The guide's SLIs, with targets the mix meets: 10 server errors in 100 to 200 requests.
      Path slos = files.resolve("met.yml");
      Files.writeString(
          slos,
          Assets.guide("slis.yml")
              + "slos:\n"
              + "  - {name: Availability 85, sli: availability, target: 85, window: 1h}\n"
              + "  - {name: Latency p95 500ms, sli: latency, target_value: 0.5, target_percentile:"
              + " 95}\n"
              + "  - {name: Errors 15%, sli: error_rate, target: 15}\n");

      ReportRun run = report("slo", "--prometheus", prometheus.url(), "--slos", slos.toString());

      assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
      assertThat(run.err()).isEmpty();
      assertThat(run.out())
          .startsWith("SLOs of " + slos + " on " + prometheus.url() + " at ")
          .contains("Availability 85    availability  1h ", "Latency p95 500ms  latency       30d")
          .endsWith("\nAll 3 SLOs met.\n");
      ReportRun json =
          report("slo", "--prometheus", prometheus.url(), "--slos", slos.toString(), "--json");
      assertThat(json.json().path("slos"))
          .allSatisfy(slo -> assertThat(slo.path("margin").asDouble()).isPositive());
    }

    @Test
    void sloReportExitsTwoWhenItCannotEvaluate(@TempDir Path files) throws IOException {
      Path empty = files.resolve("empty.yml");
      Files.writeString(
          empty,
          "slis:\n  nothing:\n    metric: sum(rate(conea_no_such_metric_total[5m]))\n"
              + "slos:\n  - {name: Nothing, sli: nothing, target: 99}\n");
      Path broken = files.resolve("broken.yml");
      Files.writeString(
          broken,
          "slis:\n  broken:\n    metric: sum(rate(http_requests_total[5m])\n"
              + "slos:\n  - {name: Broken, sli: broken, target: 99}\n");
      int closed = DemoProcess.freePort();

      ReportRun noData =
          report("slo", "--prometheus", prometheus.url(), "--slos", empty.toString());
      ReportRun badQuery =
          report("slo", "--prometheus", prometheus.url(), "--slos", broken.toString(), "--json");
      ReportRun down =
          report("slo", "--prometheus", "http://127.0.0.1:" + closed, "--slos", shippedSlos());

      assertThat(noData.exitCode()).isEqualTo(2);
      assertThat(noData.err())
          .isEqualTo(
              "conea-report slo: SLO Nothing: no data: the SLI's query returned an empty result:"
                  + " sum(rate(conea_no_such_metric_total[30d]))\n");
      assertThat(noData.out()).contains("Nothing: cannot be evaluated: no data");
      assertThat(badQuery.exitCode()).isEqualTo(2);
      assertThat(badQuery.out()).isEmpty();
      assertThat(badQuery.err())
          .startsWith(
              "conea-report slo: Prometheus rejected the query sum(rate(http_requests_total[30d]):"
                  + " bad_data: ")
          .hasLineCount(1);
      assertThat(down.exitCode()).isEqualTo(2);
      assertThat(down.out()).isEmpty();
      assertThat(down.err())
          .startsWith(
              "conea-report slo: cannot reach Prometheus at http://127.0.0.1:" + closed + ": ")
          .hasLineCount(1);
    }

    @Test
    void alertsReportListsWhatAlertmanagerFires(@TempDir Path files) throws Exception {
      Path binary = Tools.alertmanager();
      Path config = files.resolve("alertmanager.yml");
      Files.writeString(config, "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n");
      Path storage = Files.createDirectories(files.resolve("data"));
      try (ServerProcess alertmanager =
          ServerProcess.start(
              "alertmanager",
              binary,
              port ->
                  List.of(
                      "--config.file=" + config,
                      "--storage.path=" + storage,
                      "--web.listen-address=127.0.0.1:" + port,
                      "--cluster.listen-address=",
                      "--log.level=warn"),
              "/-/ready",
              files,
              http)) {
        post(
            alertmanager,
            "/api/v2/alerts",
            """
            [{"labels": {"alertname": "ServiceDown", "severity": "critical", "job": "conea-api",
                         "instance": "127.0.0.1:8080"},
              "annotations": {"summary": "Service 127.0.0.1:8080 is down"}},
             {"labels": {"alertname": "HighCPUUsage", "severity": "warning",
                         "instance": "127.0.0.1:9100"},
              "annotations": {"summary": "High CPU usage on 127.0.0.1:9100"}},
             {"labels": {"alertname": "HighDiskUsage", "severity": "warning",
                         "instance": "127.0.0.1:9100"},
              "annotations": {"summary": "High disk usage on 127.0.0.1:9100"}}]
            """);
        // Silenced alerts are not firing ones.
        post(
            alertmanager,
            "/api/v2/silences",
            String.format(
                Locale.ROOT,
                "{\"matchers\": [{\"name\": \"alertname\", \"value\": \"HighDiskUsage\","
                    + " \"isRegex\": false}], \"startsAt\": \"%s\", \"endsAt\": \"%s\","
                    + " \"createdBy\": \"conea\", \"comment\": \"known\"}",
                java.time.Instant.now().minusSeconds(60),
                java.time.Instant.now().plusSeconds(3600)));

        ReportRun json = report("alerts", "--alertmanager", alertmanager.url(), "--json");
        ReportRun table = report("alerts", "--alertmanager", alertmanager.url());

        assertThat(json.exitCode()).as(json.err()).isZero();
        JsonNode bySeverity = json.json().path("by_severity");
        assertThat(json.json().path("firing").asInt()).isEqualTo(2);
        assertThat(bySeverity.properties())
            .extracting(Map.Entry::getKey)
            .containsExactly("critical", "warning");
        assertThat(bySeverity.at("/critical/0/alertname").asText()).isEqualTo("ServiceDown");
        assertThat(bySeverity.at("/critical/0/labels/instance").asText())
            .isEqualTo("127.0.0.1:8080");
        assertThat(bySeverity.at("/critical/0/annotations/summary").asText())
            .isEqualTo("Service 127.0.0.1:8080 is down");
        assertThat(bySeverity.path("warning")).hasSize(1);
        assertThat(bySeverity.at("/warning/0/alertname").asText()).isEqualTo("HighCPUUsage");
        assertThat(table.exitCode()).isZero();
        assertThat(table.out())
            .startsWith("2 firing alerts on " + alertmanager.url() + "\n")
            .contains("\ncritical (1)\n", "  ServiceDown ", "\nwarning (1)\n", "  HighCPUUsage ")
            .doesNotContain("HighDiskUsage");
      }
    }

    @Test
    void theExecutableJarReadsTheDefaultSloFileUnderTheWorkingDirectory() throws Exception {
      Path jar =
          Path.of(System.getProperty("report.jar", "../conea-report/target/conea-report.jar"))
              .toAbsolutePath()
              .normalize();
      assertThat(jar)
          .as("build it with: mvn -B -q -DskipTests -pl conea-report package")
          .isRegularFile();
      // The repository: monitoring/slo/slos.yml is the default file there.
      Path repository = Assets.root().getParent();

      ReportRun slo = runJar(jar, repository, "slo", "--prometheus", prometheus.url());

      assertThat(slo.exitCode()).as(slo.out() + slo.err()).isEqualTo(1);
      assertThat(slo.out())
          .startsWith(
              "SLOs of "
                  + Path.of("monitoring", "slo", "slos.yml")
                  + " on "
                  + prometheus.url()
                  + " at ")
          .contains("API Availability", "API Latency", "Error Budget")
          .endsWith("\n2 of 3 SLOs missed.\n");
      assertThat(slo.err()).startsWith("conea-report slo: 2 of 3 SLOs missed: ").hasLineCount(1);
      assertThat(runJar(jar, repository, "--help").out()).startsWith("Usage: conea-report COMMAND");
      if (nodeExporter != null) {
        // The guide's own capacity queries, with their 5m rate.
        ReportRun capacity =
            runJar(jar, repository, "capacity", "--prometheus", prometheus.url(), "--json");
        assertThat(capacity.exitCode()).as(capacity.err()).isZero();
        assertThat(capacity.json().path("rate_window").asText()).isEqualTo("5m");
        for (String key : List.of("CPU Usage", "Memory Usage", "Disk Usage")) {
          assertThat(capacity.json().at("/average").path(key).asDouble())
              .as(key)
              .isBetween(0.0, 100.0);
        }
      }
    }
  }

  /**
   * Prometheus' rate() of a counter from its first and last sample in the range: the increase,
   * extrapolated towards the range's ends (at most half a sample interval past a sample when the
   * range reaches further, never below zero), over the range's seconds.
   */
  private static double extrapolatedRate(
      double firstValue,
      double lastValue,
      double firstTime,
      double lastTime,
      int samples,
      double rangeStart,
      double rangeEnd) {
    double increase = lastValue - firstValue;
    double sampled = lastTime - firstTime;
    double toStart = firstTime - rangeStart;
    double toEnd = rangeEnd - lastTime;
    double average = sampled / (samples - 1);
    if (increase > 0 && firstValue >= 0) {
      toStart = Math.min(toStart, sampled * firstValue / increase);
    }
    double threshold = average * 1.1;
    double extrapolated = sampled;
    extrapolated += toStart < threshold ? toStart : average / 2;
    extrapolated += toEnd < threshold ? toEnd : average / 2;
    return increase * extrapolated / sampled / (rangeEnd - rangeStart);
  }

  private ServerProcess startNodeExporter() throws IOException {
    return ServerProcess.start(
        "node-exporter",
        Tools.nodeExporter(),
        port ->
            List.of(
                "--web.listen-address=127.0.0.1:" + port,
                // Only what the guide reads: no textfile directory, nothing that needs privileges.
                "--collector.disable-defaults",
                "--collector.cpu",
                "--collector.meminfo",
                "--collector.filesystem",
                "--collector.netdev",
                // Keep lo, so that the network rate has a device even where lo is the only one.
                "--collector.netdev.device-exclude=^$",
                "--log.level=warn"),
        "/metrics",
        dir,
        http);
  }

  private void requireNodeExporter() {
    Tools.nodeExporter();
    assertThat(nodeExporter).as("node exporter was started").isNotNull();
    assertThat(nodePoller).isNotNull();
  }

  /** What one run of conea-report printed and how it exited. */
  record ReportRun(int exitCode, String out, String err) {
    JsonNode json() {
      try {
        return Assets.JSON.readTree(out);
      } catch (IOException e) {
        return fail("conea-report printed no JSON: %s%n%s", out, err);
      }
    }
  }

  /** Runs conea-report in this JVM, as {@code main} would but returning the exit code. */
  private ReportRun report(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        ConeaReport.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    ReportRun run =
        new ReportRun(
            code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    figures.put(
        "conea-report " + String.join(" ", args),
        "exit " + code + "\n" + run.out().strip() + "\n" + run.err().strip());
    return run;
  }

  /** Runs {@code java -jar conea-report.jar} in {@code workingDir}. */
  private ReportRun runJar(Path jar, Path workingDir, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "report", ".out");
    Path err = Files.createTempFile(dir, "report", ".err");
    Process process =
        new ProcessBuilder(command)
            .directory(workingDir.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("%s did not finish within 60 s", command);
    }
    return new ReportRun(process.exitValue(), Files.readString(out), Files.readString(err));
  }

  private String shippedSlos() {
    return Assets.root().resolve("slo/slos.yml").toString();
  }

  /** Requests to /metrics between Prometheus' first sample and {@code at}. */
  private double scrapesUntil(double at) {
    double count = 0;
    for (JsonNode series :
        prometheus.query("http_requests_total{endpoint=\"/metrics\"}[30d]", at).result()) {
      JsonNode values = series.path("values");
      count += values.get(values.size() - 1).get(1).asDouble() - values.get(0).get(1).asDouble();
    }
    return count;
  }

  private void post(ServerProcess server, String path, String json) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(java.net.URI.create(server.url() + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as("POST %s: %s", path, response.body()).isEqualTo(200);
  }

  /**
   * Waits until every target that {@code up} (a selector of up) names has been scraped {@code
   * count} times after {@code since}; polls often, so that it returns right after that scrape.
   */
  private void awaitScrapesOf(String up, double since, int count) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      double at = now();
      String window = Math.max(1, (int) Math.floor((at - since) * 1000)) + "ms";
      JsonNode counts =
          prometheus.query("count_over_time(" + up + "[" + window + "])", at).result();
      boolean done = counts.size() > 0;
      for (JsonNode target : counts) {
        done &= target.at("/value/1").asDouble() >= count;
      }
      if (done) {
        return;
      }
      DemoProcess.pause(Duration.ofMillis(20));
    }
    fail("Prometheus did not scrape %s %d times within 30 s:%n%s", up, count, prometheus.output());
  }

  // ---- traffic

  private void sendRound(boolean measured) {
    List<Call> fast = new ArrayList<>();
    List<Call> delayed = new ArrayList<>();
    for (int i = 0; i < ROUND_BY_ENDPOINT.get(HEALTH); i++) {
      fast.add(new Call("GET", HEALTH, null, 200));
    }
    for (int i = 1; i <= ROUND_USERS; i++) {
      fast.add(new Call("GET", "/api/v1/users/user-" + i, null, 200));
    }
    fast.add(new Call("POST", "/api/v1/jobs/etl", "", 202));
    fast.add(new Call("POST", "/api/v1/jobs/etl", "", 202));
    fast.add(new Call("POST", "/api/v1/jobs/etl", "", 202));
    fast.add(new Call("POST", "/api/v1/jobs/etl?fail=true", "", 202));
    fast.add(new Call("POST", "/api/v1/jobs/report", "", 202));
    for (int i = 0; i < ROUND_ERRORS; i++) {
      fast.add(new Call("GET", "/api/v1/fail", null, 500));
    }
    for (int i = 0; i < 3; i++) {
      fast.add(new Call("GET", "/api/v1/no-such-route/" + i, null, 404));
    }
    for (int i = 0; i < ROUND_SLOW_300MS; i++) {
      delayed.add(new Call("GET", SLOW + "?ms=300", null, 200));
    }
    for (int i = 0; i < ROUND_SLOW_700MS; i++) {
      delayed.add(new Call("GET", SLOW + "?ms=700", null, 200));
    }
    int prompt = 0;
    for (Model model : MODELS) {
      for (int i = 0; i < model.requests(); i++) {
        ObjectNode body = Assets.JSON.createObjectNode();
        body.put("model", model.name());
        body.put("provider", model.provider());
        body.put("prompt", "Summarise incident report " + ++prompt + " for the on-call engineer.");
        delayed.add(new Call("POST", CHAT, body.toString(), 200));
      }
    }
    assertThat(fast.size() + delayed.size()).isEqualTo(ROUND_TOTAL);

    // The delayed calls wait on the demo's timers, not on CPU: send them all at once, and the
    // quick ones one by one meanwhile, so that no quick one queues long enough to look slow.
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    for (int i = 0; i < delayed.size(); i++) {
      Call call = delayed.get(i);
      int port = i % 2 == 0 ? demo.servletPort : demo.nettyPort;
      long started = System.nanoTime();
      pending.add(
          http.sendAsync(request(call, port), HttpResponse.BodyHandlers.ofString())
              .thenAccept(response -> received(call, response, started, measured)));
    }
    for (int i = 0; i < fast.size(); i++) {
      send(fast.get(i), i % 2 == 0 ? demo.servletPort : demo.nettyPort);
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
  }

  private void send(Call call, int port) {
    try {
      long started = System.nanoTime();
      received(
          call,
          http.send(request(call, port), HttpResponse.BodyHandlers.ofString()),
          started,
          false);
    } catch (IOException e) {
      fail("%s %s failed: %s%n%s", call.method(), call.path(), e, demo.output());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted");
    }
  }

  private HttpRequest request(Call call, int port) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(demo.uri(port, call.path())).timeout(Duration.ofSeconds(20));
    if (call.body() == null) {
      return builder.GET().build();
    }
    return builder
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(call.body()))
        .build();
  }

  private synchronized void received(
      Call call, HttpResponse<String> response, long started, boolean measured) {
    assertThat(response.statusCode())
        .as("%s %s answered %s", call.method(), call.path(), response.body())
        .isEqualTo(call.status());
    if (!CHAT.equals(call.path())) {
      return;
    }
    try {
      JsonNode answer = Assets.JSON.readTree(response.body());
      if (measured) {
        String model = answer.path("model").asText();
        tokensByModel.merge(
            model,
            answer.path("input_tokens").asLong() + answer.path("output_tokens").asLong(),
            Long::sum);
        costByModel.merge(model, answer.path("cost").asDouble(), Double::sum);
        chatLatencies.add(Duration.ofNanos(System.nanoTime() - started));
      }
    } catch (IOException e) {
      fail("chat answered malformed JSON: " + response.body(), e);
    }
  }

  // ---- Prometheus

  /** prometheus-local.yml, pointed at the demo's ports, scraping and evaluating every second. */
  private Path writeConfig() throws IOException {
    Path local = Assets.prometheusDir().resolve("prometheus-local.yml");
    String text =
        Files.readString(local)
            .replace("127.0.0.1:8080", "127.0.0.1:" + demo.servletPort)
            .replace("127\\.0\\.0\\.1:8081", "127\\.0\\.0\\.1:" + demo.nettyPort)
            .replace("127.0.0.1:8081", "127.0.0.1:" + demo.nettyPort);
    ObjectNode config = (ObjectNode) Assets.YAML.readTree(text);
    ObjectNode global = (ObjectNode) config.path("global");
    global.put("scrape_interval", "1s");
    global.put("evaluation_interval", "1s");
    config.remove("alerting");
    if (nodeExporter != null) {
      // The guide's system metrics and conea_resources alerts read node exporter's series.
      ObjectNode job = ((ArrayNode) config.path("scrape_configs")).addObject();
      job.put("job_name", NODE_JOB);
      job.putArray("static_configs").addObject().putArray("targets").add(nodeExporter.address());
    }
    ArrayNode ruleFiles = config.putArray("rule_files");
    for (Path file : Assets.ruleFiles()) {
      // The same rules, evaluated every second instead of every 30 s to 5 m.
      ObjectNode rules = (ObjectNode) Assets.yaml(file);
      rules.path("groups").forEach(group -> ((ObjectNode) group).put("interval", "1s"));
      Path copy = dir.resolve(file.getFileName());
      Assets.YAML.writeValue(copy.toFile(), rules);
      ruleFiles.add(copy.toString());
    }
    Path generated = dir.resolve("prometheus.yml");
    Assets.YAML.writeValue(generated.toFile(), config);
    return generated;
  }

  /** Waits until every target has been scraped at least {@code count} times after {@code since}. */
  private void awaitScrapesSince(double since, int count) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      double at = now();
      String window = Math.max(1, (int) Math.floor((at - since) * 1000)) + "ms";
      JsonNode counts =
          prometheus.query("count_over_time(up{job=\"conea-api\"}[" + window + "])", at).result();
      boolean done = counts.size() == 2;
      for (JsonNode target : counts) {
        done &= target.at("/value/1").asDouble() >= count;
      }
      if (done) {
        return;
      }
      DemoProcess.pause(Duration.ofMillis(200));
    }
    fail(
        "Prometheus did not scrape the demo %d times within 30 s:%n%s", count, prometheus.output());
  }

  /** The time of the last completed scrape of the metrics target (the servlet port). */
  private double lastScrapeTime() {
    return value(
        "timestamp(up{job=\"conea-api\", instance=\"127.0.0.1:" + demo.servletPort + "\"})", now());
  }

  private double value(String expr) {
    double value = value(expr, evalTime);
    figures.put(expr, Double.toString(value));
    return value;
  }

  private double value(String expr, double at) {
    PrometheusProcess.Answer answer = prometheus.query(expr, at);
    assertThat(answer.status()).as("%s: %s", expr, answer.body()).isEqualTo(200);
    assertThat(answer.result()).as("%s at %.3f: %s", expr, at, answer.body()).hasSize(1);
    return answer.result().get(0).at("/value/1").asDouble();
  }

  /** A vector result keyed by the values of {@code labels}, joined with spaces. */
  private Map<String, Double> vector(String expr, String... labels) {
    PrometheusProcess.Answer answer = prometheus.query(expr, evalTime);
    assertThat(answer.status()).as("%s: %s", expr, answer.body()).isEqualTo(200);
    Map<String, Double> values = new HashMap<>();
    for (JsonNode sample : answer.result()) {
      List<String> key = new ArrayList<>();
      for (String label : labels) {
        key.add(sample.path("metric").path(label).asText());
      }
      values.put(String.join(" ", key), sample.at("/value/1").asDouble());
    }
    figures.put(expr, new TreeMap<>(values).toString());
    return values;
  }

  private static JsonNode only(JsonNode result) {
    assertThat(result).as("query result").hasSize(1);
    return result.get(0);
  }

  private static String sli(String name) {
    return Assets.guideYaml("slis.yml").path("slis").path(name).path("metric").asText().strip();
  }

  private static double now() {
    return System.currentTimeMillis() / 1000.0;
  }
}
