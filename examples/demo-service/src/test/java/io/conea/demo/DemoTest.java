package io.conea.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.conea.tracing.TestTelemetry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Drives the whole demo, both servers, over real HTTP on loopback. */
class DemoTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static Demo demo;

  @BeforeAll
  static void start() throws Exception {
    demo = Demo.start(new Demo.Settings("127.0.0.1", 0, 0, false, Map.of()));
  }

  @AfterAll
  static void stop() {
    demo.close();
  }

  static Stream<Arguments> servers() {
    return Stream.of(
        Arguments.of("jetty", demo.servletPort()), Arguments.of("netty", demo.nettyPort()));
  }

  private static HttpResponse<String> send(int port, String method, String path, String body)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(20))
            .header("X-User-Id", "user_123")
            .header("X-Organization-Id", "org_456");
    request.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
    return JSON.readTree(response.body());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void healthAnswersOk(String server, int port) throws Exception {
    HttpResponse<String> response = send(port, "GET", "/api/v1/health", null);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response)).isEqualTo(JSON.readTree("{\"status\":\"ok\"}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void chatAnswersWithTokensAndCost(String server, int port) throws Exception {
    String prompt = "Write a haiku about observability.";
    HttpResponse<String> response =
        send(
            port,
            "POST",
            "/api/v1/ai/chat",
            "{\"model\":\"gpt-4\",\"provider\":\"openai\",\"prompt\":\"" + prompt + "\"}");
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = json(response);
    assertThat(body.get("model").asText()).isEqualTo("gpt-4");
    assertThat(body.get("provider").asText()).isEqualTo("openai");
    long input = body.get("input_tokens").asLong();
    long output = body.get("output_tokens").asLong();
    assertThat(input).isEqualTo((prompt.length() + 3) / 4);
    assertThat(output).isPositive();
    assertThat(body.get("cost").asDouble()).isPositive();

    // Deterministic: the same prompt gives the same usage.
    JsonNode again =
        json(
            send(
                port,
                "POST",
                "/api/v1/ai/chat",
                "{\"model\":\"gpt-4\",\"provider\":\"openai\",\"prompt\":\"" + prompt + "\"}"));
    assertThat(again.get("output_tokens").asLong()).isEqualTo(output);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void chatIsRecordedInTheGuidesAiMetrics(String server, int port) throws Exception {
    String prompt = "Count the tokens of " + server + ".";
    long input = (prompt.length() + 3) / 4;
    double before = aiSeries(scrape(port), "ai_tokens_total", "type=\"input\"");
    JsonNode body =
        json(
            send(
                port,
                "POST",
                "/api/v1/ai/chat",
                "{\"model\":\"gpt-4\",\"provider\":\"openai\",\"prompt\":\"" + prompt + "\"}"));
    assertThat(body.get("input_tokens").asLong()).isEqualTo(input);
    // conea's price for gpt-4: 0.03 and 0.06 USD per 1,000 input and output tokens.
    assertThat(body.get("cost").asDouble())
        .isCloseTo((input * 0.03 + body.get("output_tokens").asLong() * 0.06) / 1000, within(1e-8));

    // The woven aspect records the call when the answer arrives, before the response is built.
    String scrape = scrape(port);
    assertThat(aiSeries(scrape, "ai_tokens_total", "type=\"input\"")).isEqualTo(before + input);
    assertThat(scrape)
        .contains("ai_model_requests_total{model=\"gpt-4\",provider=\"openai\",status=\"success\"}")
        .contains("ai_cost_usd_total{model=\"gpt-4\",provider=\"openai\"}")
        .contains(
            "ai_processing_duration_seconds_bucket{model=\"gpt-4\",provider=\"openai\",le=\"0.1\"}");
    assertThat(aiSeries(scrape, "ai_cost_usd_total", "")).isPositive();
  }

  private static String scrape(int port) throws Exception {
    return send(port, "GET", "/metrics", null).body();
  }

  /** The value of the gpt-4/openai series of {@code name} with {@code extraLabel}, 0 if absent. */
  private static double aiSeries(String scrape, String name, String extraLabel) {
    return series(
        scrape,
        name
            + "{model=\"gpt-4\",provider=\"openai\""
            + (extraLabel.isEmpty() ? "" : "," + extraLabel)
            + "}");
  }

  /** The value of one series, named with its labels as scraped; 0 if absent. */
  private static double series(String scrape, String nameAndLabels) {
    String prefix = nameAndLabels + " ";
    return scrape
        .lines()
        .filter(line -> line.startsWith(prefix))
        .mapToDouble(line -> Double.parseDouble(line.substring(prefix.length()).trim()))
        .findFirst()
        .orElse(0);
  }

  /** Waits until {@code series} of the scrape on {@code port} reaches {@code expected}. */
  private static void awaitSeries(int port, String nameAndLabels, double expected)
      throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    double value;
    while ((value = series(scrape(port), nameAndLabels)) < expected
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(value).as(nameAndLabels).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void chatRejectsBadInputWith400(String server, int port) throws Exception {
    for (String body :
        new String[] {
          "{\"model\":\"gpt-4\"",
          "not json",
          "",
          "[1,2]",
          "{\"model\":\"gpt-4\",\"provider\":\"openai\"}",
          "{\"model\":\"\",\"provider\":\"openai\",\"prompt\":\"hi\"}",
          "{\"model\":5,\"provider\":\"openai\",\"prompt\":\"hi\"}"
        }) {
      HttpResponse<String> response = send(port, "POST", "/api/v1/ai/chat", body);
      assertThat(response.statusCode()).as(body).isEqualTo(400);
      assertThat(json(response).get("error").asText()).as(body).isNotBlank();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void userAnswersWithActivity(String server, int port) throws Exception {
    double before = series(scrape(port), "user_activity_total");
    HttpResponse<String> response = send(port, "GET", "/api/v1/users/42", null);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).get("id").asText()).isEqualTo("42");
    assertThat(series(scrape(port), "user_activity_total")).isEqualTo(before + 1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void jobsAreAcceptedAndCountedWhenTheyFinish(String server, int port) throws Exception {
    String succeeded = "data_processing_jobs_total{job_type=\"etl\",status=\"success\"}";
    String failed = "data_processing_jobs_total{job_type=\"etl\",status=\"failure\"}";
    String scrape = scrape(port);
    double succeededBefore = series(scrape, succeeded);
    double failedBefore = series(scrape, failed);

    assertThat(send(port, "POST", "/api/v1/jobs/etl", null).statusCode()).isEqualTo(202);
    HttpResponse<String> failing = send(port, "POST", "/api/v1/jobs/etl?fail=true", null);
    assertThat(failing.statusCode()).isEqualTo(202);
    assertThat(json(failing).get("job_type").asText()).isEqualTo("etl");

    awaitSeries(port, succeeded, succeededBefore + 1);
    awaitSeries(port, failed, failedBefore + 1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void failAnswers500(String server, int port) throws Exception {
    HttpResponse<String> response = send(port, "GET", "/api/v1/fail", null);
    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(json(response).get("error").asText()).isNotBlank();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void slowWaitsAndRejectsBadDurations(String server, int port) throws Exception {
    long start = System.nanoTime();
    HttpResponse<String> response = send(port, "GET", "/api/v1/slow?ms=300", null);
    long tookMillis = (System.nanoTime() - start) / 1_000_000;
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(tookMillis).isGreaterThanOrEqualTo(300);
    assertThat(json(response).get("slept_ms").asLong()).isEqualTo(300);

    for (String bad : new String[] {"", "?ms=", "?ms=abc", "?ms=-5", "?ms=1e3"}) {
      assertThat(send(port, "GET", "/api/v1/slow" + bad, null).statusCode()).as(bad).isEqualTo(400);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void unknownPathsAnswer404(String server, int port) throws Exception {
    for (String path : new String[] {"/", "/api/v1/nope", "/api/v1/users/", "/api/v1/users/1/x"}) {
      HttpResponse<String> response = send(port, "GET", path, null);
      assertThat(response.statusCode()).as(path).isEqualTo(404);
      assertThat(json(response).get("status").asInt()).isEqualTo(404);
    }
    assertThat(send(port, "DELETE", "/api/v1/health", null).statusCode()).isEqualTo(404);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void aPathWithABadEscapeIsAnswered400AndCountedSo(String server, int port) throws Exception {
    // HTTP clients refuse to send /%zz: a socket of its own.
    double before = statusTotal(scrape(port), "400");
    String statusLine;
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(10_000);
      socket
          .getOutputStream()
          .write(
              "GET /api/v1/bad%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.ISO_8859_1));
      statusLine =
          new BufferedReader(
                  new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1))
              .readLine();
    }
    assertThat(statusLine).startsWith("HTTP/1.1 400");
    // Counted once as the 400 the client received, neither 499 nor 500.
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    double after = statusTotal(scrape(port), "400");
    while (after < before + 1 && System.nanoTime() < deadline) {
      Thread.sleep(20);
      after = statusTotal(scrape(port), "400");
    }
    assertThat(after).isEqualTo(before + 1);
  }

  /** The sum of http_requests_total over every series with {@code status}. */
  private static double statusTotal(String scrape, String status) {
    return TestTelemetry.requestsByStatus(scrape, labels -> true).getOrDefault(status, 0.0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void metricsServesPrometheusText(String server, int port) throws Exception {
    send(port, "GET", "/api/v1/health", null);
    HttpResponse<String> response = send(port, "GET", "/metrics", null);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain");
    assertThat(response.body())
        .contains("# TYPE user_activity_total counter")
        .contains("http_requests_total{endpoint=\"/api/v1/health\",method=\"GET\",status=\"200\"}")
        .contains(
            "http_request_duration_seconds_bucket{endpoint=\"/api/v1/health\",method=\"GET\",le=\"0.005\"}");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void metricsCountRequestsUnderTheirRouteTemplate(String server, int port) throws Exception {
    String user =
        "http_requests_total{endpoint=\"/api/v1/users/{id}\",method=\"GET\",status=\"200\"}";
    String notFound = "http_requests_total{endpoint=\"NOT_FOUND\",method=\"GET\",status=\"404\"}";
    String before = scrape(port);

    send(port, "GET", "/api/v1/users/9d1e2c", null);
    send(port, "GET", "/no/such/path/12345", null);

    String after = scrape(port);
    assertThat(series(after, user)).isEqualTo(series(before, user) + 1);
    assertThat(series(after, notFound)).isEqualTo(series(before, notFound) + 1);
    assertThat(after).doesNotContain("9d1e2c").doesNotContain("12345");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void debugTracesServesJson(String server, int port) throws Exception {
    HttpResponse<String> response = send(port, "GET", "/debug/traces", null);
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = json(response);
    assertThat(body.get("spans").isArray()).isTrue();
    assertThat(body.get("capacity").asInt()).isEqualTo(200);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("servers")
  void sampledRequestsShowUpInDebugTraces(String server, int port) throws Exception {
    String traceId =
        server.equals("jetty")
            ? "4bf92f3577b34da6a3ce929d0e0e4736"
            : "5bf92f3577b34da6a3ce929d0e0e4737";
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/users/42"))
            .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")
            .build();
    assertThat(CLIENT.send(request, HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200);

    JsonNode spans = json(send(port, "GET", "/debug/traces", null)).get("spans");
    assertThat(spans)
        .anySatisfy(
            span -> {
              assertThat(span.get("trace_id").asText()).isEqualTo(traceId);
              assertThat(span.get("parent_span_id").asText()).isEqualTo("00f067aa0ba902b7");
              assertThat(span.get("name").asText()).isEqualTo("GET /api/v1/users/{id}");
              assertThat(span.get("kind").asText()).isEqualTo("SERVER");
              assertThat(span.get("attributes").get("http.response.status_code").asText())
                  .isEqualTo("200");
            });
  }
}
