package com.example.starter;

import static com.example.testing.HostProbes.abbreviate;
import static com.example.testing.HostProbes.collections;
import static com.example.testing.HostProbes.series;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.example.testing.HostProbes;
import com.example.testing.PrometheusText;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts an application whose only conea is conea-spring-boot-starter, as a service would run, on
 * 127.0.0.1 and a free port, sends a known mix of requests, and checks what the starter promises:
 * the application's statuses unchanged, {@code http_requests_total} at {@code /metrics} counting
 * exactly what was sent by route template ({@code NOT_FOUND} for unknown paths), the same registry
 * as {@code /actuator/prometheus}, exemplars of conea's spans, stdout made of JSON lines in the
 * guide's schema only, no warning at start-up, and Boot's own JVM meters not doubled.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StarterApplicationTest {

  private static final String USERS_ROUTE = "/api/v1/users/{id}";
  private static final String UNKNOWN_PATH = "/api/v1/no-such-route";

  /**
   * A path every server answers 400 before conea's filter (a malformed % escape): Tomcat and Jetty
   * reject it, and on Reactor Netty Spring's adapter does. conea counts it on each.
   */
  private static final String REJECTED_PATH = "/api/v1/bad%zz";

  private static final String SERVICE = "conea-api";
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String TRACEPARENT = "00-" + TRACE_ID + "-00f067aa0ba902b7-01";
  private static final int FORCED_GCS = 3;
  private static final int AI_CALLS = 3;
  private static final String AI_CHAT = "/api/v1/ai/chat?provider=openai&model=gpt-4&prompt=hello";
  // gpt-4 costs 0.03 USD per 1,000 input tokens and 0.06 per 1,000 output tokens (conea's
  // defaults);
  // the host's model answers "hello" with 5 input and 10 output tokens.
  private static final double AI_CALL_COST = 5 * 0.03 / 1000 + 10 * 0.06 / 1000;
  private static final Duration WAIT = Duration.ofSeconds(10);

  /**
   * Whether each request goes on a connection of its own, for servers that may leave a keep-alive
   * request unanswered (the WebFlux projects' poms say why).
   */
  private static final boolean ONE_CONNECTION_PER_REQUEST =
      Boolean.getBoolean("it.oneConnectionPerRequest");

  private final ObjectMapper json =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private final List<Call> calls = new ArrayList<>();

  private PrintStream originalOut;
  private HostProbes.Capture stdout;
  private ConfigurableApplicationContext context;
  private HttpClient client;
  private String base;
  private String port;
  private int startupEnd;
  private int logErrorStart;
  private int logErrorEnd;
  private int boomStart;
  private int scrapes;

  /**
   * A request sent, with the status the application sets for it, the status received (or why none
   * was) and the start of the body.
   */
  private record Call(String method, String path, int expected, String received, String body) {
    String expectation() {
      return method + " " + path + " -> " + expected;
    }

    String outcome() {
      String outcome = method + " " + path + " -> " + received;
      return received.equals(String.valueOf(expected)) ? outcome : outcome + " " + body;
    }
  }

  @BeforeAll
  void startApplicationAndSendRequests() throws Exception {
    // Everything the application writes to stdout from the very start, still shown as usual.
    originalOut = System.out;
    stdout = new HostProbes.Capture(originalOut);
    System.setOut(new PrintStream(stdout, true, UTF_8));

    SpringApplication application = new SpringApplication(HostApplication.class);
    // Else Boot names the class whose main() is on the stack: Surefire's.
    application.setMainApplicationClass(HostApplication.class);
    context = application.run("--server.port=0", "--server.address=127.0.0.1");
    port = context.getEnvironment().getProperty("local.server.port");
    assertNotNull(port, "local.server.port");
    base = "http://127.0.0.1:" + port;
    client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    startupEnd = stdout.size();
    // First, so that its exemplar is the first of its series: a sampled parent, so sampled too.
    send("GET", "/api/v1/users/7", 200, "traceparent", TRACEPARENT);
    for (String id : List.of("1", "42", "abc")) {
      send("GET", "/api/v1/users/" + id, 200);
    }
    send("POST", "/api/v1/items", 201);
    send("POST", "/api/v1/items", 201);
    send("GET", "/api/v1/teapot", 418);
    send("GET", "/api/v1/teapot", 418);
    boomStart = stdout.size();
    send("GET", "/api/v1/boom", 500);
    send("GET", "/api/v1/boom", 500);
    send("GET", UNKNOWN_PATH, 404);
    send("GET", UNKNOWN_PATH, 404);
    send("GET", "/actuator/health", 200);
    for (int i = 0; i < AI_CALLS; i++) {
      send("POST", AI_CHAT, 200);
    }
    sendRaw(REJECTED_PATH, 400);
    logErrorStart = stdout.size();
    send("GET", "/api/v1/logerror", 200);
    logErrorEnd = stdout.size();
  }

  @AfterAll
  void stopApplication() {
    try {
      if (context != null) {
        context.close();
      }
    } finally {
      if (originalOut != null) {
        System.setOut(originalOut);
      }
    }
  }

  @Test
  @Order(1)
  void everyRequestGetsTheStatusTheApplicationSet() {
    assertEquals(
        calls.stream().map(Call::expectation).toList(), calls.stream().map(Call::outcome).toList());
  }

  @Test
  @Order(2)
  void httpRequestsTotalCountsExactlyWhatWasSent() throws Exception {
    Map<Map<String, String>, Double> expected = new LinkedHashMap<>();
    for (Call call : calls) {
      String path = call.path().replaceFirst("\\?.*", "");
      String endpoint =
          call.expected() == 404
              ? "NOT_FOUND"
              : path.equals(REJECTED_PATH)
                  ? "_OTHER"
                  : path.startsWith("/api/v1/users/") ? USERS_ROUTE : path;
      expected.merge(
          rejectedAsSent(series(call.method(), endpoint, call.expected())), 1.0, Double::sum);
    }

    // A request is counted once its response is written, so the last one may land a moment
    // after the client has read it: scrape until the counts settle (counters only grow, so an
    // excess never settles into a pass).
    long deadline = System.nanoTime() + WAIT.toNanos();
    Map<Map<String, String>, Double> counted;
    Map<Map<String, String>, Double> expectedNow;
    while (true) {
      expectedNow = new LinkedHashMap<>(expected);
      if (scrapes > 0) {
        expectedNow.put(series("GET", "/metrics", 200), (double) scrapes);
      }
      counted = new LinkedHashMap<>();
      for (PrometheusText.Sample sample : scrape().samples("http_requests_total")) {
        counted.merge(rejectedAsSent(sample.labels()), sample.value(), Double::sum);
      }
      if (counted.equals(expectedNow) || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(100);
    }
    assertEquals(expectedNow, counted, "http_requests_total by {method,endpoint,status}");
  }

  @Test
  @Order(3)
  void actuatorServesTheSameRegistryAndTheScrapeHasTheGuidesMeters() throws Exception {
    HttpResponse<String> actuator = get("/actuator/prometheus", "text/plain; version=0.0.4");
    assertEquals(200, actuator.statusCode(), actuator.body());
    PrometheusText boot = PrometheusText.parse(actuator.body());
    PrometheusText conea = scrape();
    // One registry: every family Boot serves is in conea's later scrape (meters only appear, a
    // first GC pause say, between the two), and the guide's meters are in both.
    Set<String> missing = new TreeSet<>(boot.typedFamilies());
    missing.removeAll(conea.typedFamilies());
    assertEquals(Set.of(), missing, "families of /actuator/prometheus missing from /metrics");
    for (String family : List.of("http_requests_total", "http_request_duration_seconds")) {
      assertTrue(boot.typedFamilies().contains(family), family + " in /actuator/prometheus");
    }
    List<Double> buckets =
        conea.samples("http_request_duration_seconds_bucket").stream()
            .filter(sample -> USERS_ROUTE.equals(sample.labels().get("endpoint")))
            .map(sample -> sample.labels().get("le"))
            .map(le -> le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le))
            .toList();
    assertEquals(
        List.of(
            0.005,
            0.01,
            0.025,
            0.05,
            0.1,
            0.25,
            0.5,
            1.0,
            2.5,
            5.0,
            10.0,
            Double.POSITIVE_INFINITY),
        buckets,
        "http_request_duration_seconds buckets of " + USERS_ROUTE);
  }

  @Test
  @Order(4)
  void aSampledRequestLeavesItsTraceIdAsExemplar() throws Exception {
    HttpResponse<String> response =
        get("/metrics", "application/openmetrics-text; version=1.0.0; charset=utf-8");
    scrapes++;
    assertEquals(200, response.statusCode(), response.body());
    List<String> withExemplar =
        response
            .body()
            .lines()
            .filter(line -> line.contains("trace_id=\"" + TRACE_ID + "\""))
            .toList();
    assertTrue(
        withExemplar.stream()
            .anyMatch(
                line ->
                    line.startsWith("http_request")
                        && line.contains("endpoint=\"" + USERS_ROUTE + "\"")),
        "no exemplar of trace " + TRACE_ID + " in the OpenMetrics scrape: " + withExemplar);
  }

  @Test
  @Order(5)
  void everyStdoutLineIsOneJsonObject() {
    List<String> lines = stdout.lines(0, stdout.size());
    assertFalse(lines.isEmpty(), "nothing was written to stdout");
    assertEquals(
        List.of(),
        HostProbes.jsonLineProblems(
            json,
            lines,
            node ->
                SERVICE.equals(node.path("service").asText(null))
                    && node.path("timestamp").asText("").matches("\\d{4}-.*T.*\\.\\d{3}Z")
                    && node.has("level")
                    && node.has("message")),
        "stdout lines that are not one JSON object each");
  }

  @Test
  @Order(6)
  void startupLogsNoWarningOrError() throws IOException {
    HostProbes.assertStartedWithoutWarnings(json, stdout.lines(0, startupEnd));
  }

  @Test
  @Order(7)
  void loggedExceptionIsEncodedAsErrorObject() {
    HostProbes.assertLoggedErrorEvent(
        json, stdout.lines(logErrorStart, logErrorEnd), "com.example.starter.HostController");
  }

  @Test
  @Order(8)
  void unhandledExceptionIsLoggedAsOneErrorLineInsideTheRequest() throws InterruptedException {
    // conea's line, written inside the request's scope; the container's (Tomcat's, Jetty's) or
    // WebFlux's own report of the same exception, written after the scope closed, is dropped.
    // Behind Jetty's handler the request ends, and the line is written, once Jetty has logged the
    // response, which can be a moment after the client read it.
    long deadline = System.nanoTime() + WAIT.toNanos();
    List<JsonNode> errors = boomReports();
    while (errors.size() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(50);
      errors = boomReports();
    }
    Thread.sleep(200);
    errors = boomReports();
    assertEquals(2, errors.size(), "reports of the two GET /api/v1/boom: " + errors);
    JsonNode event = errors.get(0);
    assertEquals("error", event.path("level").asText(), event.toString());
    assertEquals("GET", event.path("method").asText(null), event.toString());
    assertEquals("/api/v1/boom", event.path("path").asText(null), event.toString());
    assertEquals(500, event.path("status").asInt(), event.toString());
    assertTrue(event.path("duration_ms").isIntegralNumber(), "duration_ms: " + event);
    assertTrue(event.path("trace_id").asText("").matches("[0-9a-f]{32}"), "trace_id: " + event);
    assertTrue(event.path("span_id").asText("").matches("[0-9a-f]{16}"), "span_id: " + event);
    JsonNode error = event.path("error");
    // The exception the controller threw, not a framework's wrapper of it.
    assertEquals(
        "java.lang.IllegalStateException", error.path("type").asText(""), event.toString());
    assertEquals("boom", error.path("message").asText(""), event.toString());
    String stackTrace = error.path("stack_trace").asText("");
    assertTrue(
        stackTrace.contains("IllegalStateException: boom")
            && stackTrace.contains("com.example.starter.HostController.boom"),
        event.toString());
  }

  @Test
  @Order(9)
  void jvmGcPausesAreRecordedOnceEach() throws Exception {
    // Start from a quiet point: no collection whose notification is still on its way.
    HostProbes.GcState before = HostProbes.quietGcState(this::scrape, WAIT);
    for (int i = 0; i < FORCED_GCS; i++) {
      System.gc();
    }
    long deadline = System.nanoTime() + WAIT.toNanos();
    HostProbes.GcState after;
    while (true) {
      after = HostProbes.gcState(this::scrape);
      long collections = after.collections() - before.collections();
      if ((collections >= FORCED_GCS
              && after.pausesCounted() - before.pausesCounted() >= collections)
          || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(100);
    }
    // Let any further (duplicate) recording of the same notifications land before comparing.
    Thread.sleep(500);
    after = HostProbes.quietGcState(this::scrape, WAIT);
    long collections = after.collections() - before.collections();
    assertTrue(
        collections >= FORCED_GCS,
        "System.gc() did not collect " + FORCED_GCS + " times: " + before + " -> " + after);
    assertEquals(
        collections,
        after.pausesCounted() - before.pausesCounted(),
        "rise of sum(jvm_gc_pause_seconds_count) against the collections the JVM reports: "
            + before
            + " -> "
            + after);
  }

  @Test
  @Order(10)
  void scrapeHasNoDuplicateSeries() throws Exception {
    PrometheusText text = scrape();
    Set<String> seen = new HashSet<>();
    List<String> duplicates = new ArrayList<>();
    for (PrometheusText.Sample sample : text.samples()) {
      if (!seen.add(sample.series())) {
        duplicates.add(sample.series());
      }
    }
    Set<String> families = new HashSet<>();
    for (String family : text.typedFamilies()) {
      if (!families.add(family)) {
        duplicates.add("# TYPE " + family);
      }
    }
    assertEquals(List.of(), duplicates, "series exposed more than once");
  }

  @Test
  @Order(11)
  void oneOpenTelemetrySdkNamedAfterTheApplication() {
    // conea's SDK, and no second one: Boot 3.5's own OpenTelemetry auto-configuration, which the
    // SDK on the class path would otherwise trigger, backs off.
    Map<String, io.opentelemetry.api.OpenTelemetry> sdks =
        context.getBeansOfType(io.opentelemetry.api.OpenTelemetry.class);
    assertEquals(1, sdks.size(), "OpenTelemetry beans: " + sdks.keySet());
    String sdk = sdks.values().iterator().next().toString();
    assertTrue(sdk.contains("service.name=\"" + SERVICE + "\""), sdk);
  }

  @Test
  @Order(12)
  void anAiModelCallOnABeanIsRecordedWithNoBeanDeclared() throws Exception {
    // The aspect and the recorder come from the starter; the controller returns the cost it read
    // from the injected recorder.
    for (Call call : calls) {
      if (call.path().equals(AI_CHAT)) {
        JsonNode body = json.readTree(call.body());
        assertEquals(
            AI_CALL_COST, body.path("cost").asDouble(), 1e-12, call.outcome() + call.body());
      }
    }
    PrometheusText text = scrape();
    Map<String, String> labels = Map.of("model", "gpt-4", "provider", "openai");
    Map<String, String> success = new LinkedHashMap<>(labels);
    success.put("status", "success");
    assertEquals(
        AI_CALLS, text.value("ai_model_requests_total", success), 0.0, "ai_model_requests_total");
    Map<String, String> input = new LinkedHashMap<>(labels);
    input.put("type", "input");
    Map<String, String> output = new LinkedHashMap<>(labels);
    output.put("type", "output");
    assertEquals(AI_CALLS * 5.0, text.value("ai_tokens_total", input), 0.0, "input tokens");
    assertEquals(AI_CALLS * 10.0, text.value("ai_tokens_total", output), 0.0, "output tokens");
    assertEquals(
        AI_CALLS * AI_CALL_COST,
        text.value("ai_cost_usd_total", labels),
        1e-12,
        "ai_cost_usd_total");
    assertEquals(
        AI_CALLS,
        text.value("ai_processing_duration_seconds_count", labels),
        0.0,
        "ai_processing_duration_seconds_count");
  }

  // ---------------------------------------------------------------------------------------------

  private void send(String method, String path, int expected, String... headers)
      throws InterruptedException {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path));
    if (headers.length > 0) {
      builder.headers(headers);
    }
    if (ONE_CONNECTION_PER_REQUEST) {
      builder.header("Connection", "close");
    }
    HttpRequest request =
        builder
            .timeout(WAIT)
            .method(
                method,
                method.equals("POST")
                    ? HttpRequest.BodyPublishers.ofString("{}")
                    : HttpRequest.BodyPublishers.noBody())
            .header("Content-Type", "application/json")
            .build();
    String received;
    String body;
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      received = String.valueOf(response.statusCode());
      body = abbreviate(response.body());
    } catch (IOException e) {
      received = e.toString();
      body = "";
    }
    calls.add(new Call(method, path, expected, received, body));
  }

  /**
   * A rejected request's series with any method: Tomcat reads the method of a request it rejects
   * (GET), Jetty does not always ({@code _OTHER}).
   */
  private static Map<String, String> rejectedAsSent(Map<String, String> labels) {
    if (!"_OTHER".equals(labels.get("endpoint")) || !"400".equals(labels.get("status"))) {
      return labels;
    }
    Map<String, String> any = new LinkedHashMap<>(labels);
    any.put("method", "GET or _OTHER");
    return any;
  }

  /** Every warning or error on stdout that reports the controller's exception. */
  private List<JsonNode> boomReports() {
    List<JsonNode> reports = new ArrayList<>();
    for (String line : stdout.lines(boomStart, stdout.size())) {
      JsonNode event = HostProbes.parseObject(json, line);
      String level = event == null ? "" : event.path("level").asText();
      if ((level.equals("error") || level.equals("warn"))
          && event
              .path("error")
              .path("stack_trace")
              .asText("")
              .contains("IllegalStateException: boom")) {
        reports.add(event);
      }
    }
    return reports;
  }

  /** Sends a request that HTTP clients refuse to send, on a socket of its own. */
  private void sendRaw(String path, int expected) throws IOException {
    String received;
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", Integer.parseInt(port))) {
      socket.setSoTimeout((int) WAIT.toMillis());
      socket
          .getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                  .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      String statusLine =
          new java.io.BufferedReader(
                  new java.io.InputStreamReader(
                      socket.getInputStream(), java.nio.charset.StandardCharsets.ISO_8859_1))
              .readLine();
      received =
          statusLine == null || statusLine.length() < 12
              ? "" + statusLine
              : statusLine.substring(9, 12);
    }
    calls.add(new Call("GET", path, expected, received, ""));
  }

  /** Scrapes conea's path, counting the scrapes: each is a request that the filter counts. */
  private PrometheusText scrape() throws IOException, InterruptedException {
    HttpResponse<String> response = get("/metrics", "text/plain; version=0.0.4; charset=utf-8");
    scrapes++;
    if (response.statusCode() != 200) {
      fail("GET /metrics -> " + response.statusCode() + ": " + response.body());
    }
    return PrometheusText.parse(response.body());
  }

  private HttpResponse<String> get(String path, String accept)
      throws IOException, InterruptedException {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(WAIT).header("Accept", accept);
    if (ONE_CONNECTION_PER_REQUEST) {
      builder.header("Connection", "close");
    }
    return client.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }
}
