package com.example.host;

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
import java.util.stream.Collectors;
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
 * Starts the application as a service would run, on 127.0.0.1 and a free port, sends a known mix of
 * requests, and checks what conea promises: the application's statuses unchanged, {@code
 * http_requests_total} counting exactly what was sent, stdout made of JSON lines only, and Boot's
 * own JVM meters not doubled.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostApplicationTest {

  private static final String USERS_ROUTE = "/api/v1/users/{id}";
  private static final String UNKNOWN_PATH = "/api/v1/no-such-route";
  private static final int FORCED_GCS = 3;
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final ObjectMapper json =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private final List<Call> calls = new ArrayList<>();

  private PrintStream originalOut;
  private HostProbes.Capture stdout;
  private ConfigurableApplicationContext context;
  private HttpClient client;
  private String base;
  private int startupEnd;
  private int logErrorStart;
  private int logErrorEnd;
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
    String port = context.getEnvironment().getProperty("local.server.port");
    assertNotNull(port, "local.server.port");
    base = "http://127.0.0.1:" + port;
    client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    startupEnd = stdout.size();
    for (String id : List.of("1", "42", "abc")) {
      send("GET", "/api/v1/users/" + id, 200);
    }
    send("POST", "/api/v1/items", 201);
    send("POST", "/api/v1/items", 201);
    send("GET", "/api/v1/teapot", 418);
    send("GET", "/api/v1/teapot", 418);
    send("GET", "/api/v1/boom", 500);
    send("GET", "/api/v1/boom", 500);
    send("GET", UNKNOWN_PATH, 404);
    send("GET", UNKNOWN_PATH, 404);
    send("GET", "/actuator/health", 200);
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
      if (call.expected() == 404) {
        continue;
      }
      String endpoint = call.path().startsWith("/api/v1/users/") ? USERS_ROUTE : call.path();
      expected.merge(series(call.method(), endpoint, call.expected()), 1.0, Double::sum);
    }
    long notFoundSent = calls.stream().filter(call -> call.expected() == 404).count();

    // A request is counted once its response is written, so the last one may land a moment
    // after the client has read it: scrape until the counts settle (counters only grow, so an
    // excess never settles into a pass).
    long deadline = System.nanoTime() + WAIT.toNanos();
    Map<Map<String, String>, Double> counted;
    Map<Map<String, String>, Double> notFound;
    Map<Map<String, String>, Double> expectedNow;
    while (true) {
      expectedNow = new LinkedHashMap<>(expected);
      if (scrapes > 0) {
        expectedNow.put(series("GET", "/actuator/prometheus", 200), (double) scrapes);
      }
      counted = new LinkedHashMap<>();
      for (PrometheusText.Sample sample : scrape().samples("http_requests_total")) {
        counted.put(sample.labels(), sample.value());
      }
      notFound = new LinkedHashMap<>(counted);
      notFound.keySet().removeIf(labels -> !"404".equals(labels.get("status")));
      counted.keySet().removeAll(notFound.keySet());
      double notFoundCounted = notFound.values().stream().mapToDouble(Double::doubleValue).sum();
      if ((counted.equals(expectedNow) && notFoundCounted == notFoundSent)
          || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(100);
    }

    System.err.println(
        "[host-app] "
            + UNKNOWN_PATH
            + " (404) was counted as: http_requests_total"
            + notFound.entrySet().stream()
                .map(entry -> entry.getKey() + " " + entry.getValue())
                .collect(Collectors.joining("; ")));
    assertEquals(expectedNow, counted, "http_requests_total by {method,endpoint,status}");
    for (Map<String, String> labels : notFound.keySet()) {
      assertEquals(Set.of("method", "endpoint", "status"), labels.keySet(), labels.toString());
      assertEquals("GET", labels.get("method"), labels.toString());
    }
    assertEquals(
        (double) notFoundSent,
        notFound.values().stream().mapToDouble(Double::doubleValue).sum(),
        "requests for an unknown path counted with status 404: " + notFound);
  }

  @Test
  @Order(3)
  void everyStdoutLineIsOneJsonObject() {
    List<String> lines = stdout.lines(0, stdout.size());
    assertFalse(lines.isEmpty(), "nothing was written to stdout");
    assertEquals(
        List.of(),
        HostProbes.jsonLineProblems(json, lines, node -> true),
        "stdout lines that are not one JSON object each");
  }

  @Test
  @Order(4)
  void startupLogsNoWarningOrError() throws IOException {
    HostProbes.assertStartedWithoutWarnings(json, stdout.lines(0, startupEnd));
  }

  @Test
  @Order(5)
  void loggedExceptionIsEncodedAsErrorObject() {
    HostProbes.assertLoggedErrorEvent(
        json, stdout.lines(logErrorStart, logErrorEnd), "com.example.host.HostController");
  }

  @Test
  @Order(6)
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
  @Order(7)
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

  // ---------------------------------------------------------------------------------------------

  private void send(String method, String path, int expected) throws InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + path))
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

  private PrometheusText scrape() throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + "/actuator/prometheus"))
            .timeout(WAIT)
            .header("Accept", "text/plain; version=0.0.4; charset=utf-8")
            .build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    scrapes++;
    if (response.statusCode() != 200) {
      fail("GET /actuator/prometheus -> " + response.statusCode() + ": " + response.body());
    }
    return PrometheusText.parse(response.body());
  }
}
