package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.withinPercentage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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
    if (prometheus != null) {
      prometheus.close();
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
