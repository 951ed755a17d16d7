package io.conea.example.boot;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Runs the example as a user would (its own application.properties; no tracing collector, so the
 * exporter is off) on a free loopback port, sends the demo's API a known mix of requests and checks
 * what README promises: every status as the API defines it, the guide's meters at {@code /metrics}
 * with exact counts by route template, the AI meters from {@code @AiModelCall}, and stdout made of
 * JSON lines in the guide's schema, with one error line, carrying the trace id, for the failure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServiceApplicationTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private final ObjectMapper json = new ObjectMapper();
  private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
  private final List<String> outcomes = new ArrayList<>();
  private final List<String> expected = new ArrayList<>();
  private PrintStream originalOut;
  private ConfigurableApplicationContext context;
  private HttpClient client;
  private String base;

  @BeforeAll
  void startAndSend() throws Exception {
    originalOut = System.out;
    PrintStream original = originalOut;
    System.setOut(
        new PrintStream(
            new OutputStream() {
              @Override
              public synchronized void write(int b) {
                captured.write(b);
                original.write(b);
              }

              @Override
              public synchronized void write(byte[] b, int off, int len) {
                captured.write(b, off, len);
                original.write(b, off, len);
              }
            },
            true,
            UTF_8));
    SpringApplication application = new SpringApplication(ServiceApplication.class);
    application.setMainApplicationClass(ServiceApplication.class);
    context =
        application.run("--server.port=0", "--conea.tracing.config[otel.traces.exporter]=none");
    String port = context.getEnvironment().getProperty("local.server.port");
    assertNotNull(port, "local.server.port");
    base = "http://127.0.0.1:" + port;
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    send("GET", "/api/v1/health", null, 200);
    for (String id : List.of("1", "2", "3")) {
      send("GET", "/api/v1/users/" + id, null, 200);
    }
    String chat = "{\"model\":\"gpt-4\",\"provider\":\"openai\",\"prompt\":\"Write a haiku.\"}";
    send("POST", "/api/v1/ai/chat", chat, 200);
    send("POST", "/api/v1/ai/chat", chat, 200);
    send("POST", "/api/v1/ai/chat", "{\"model\":\"gpt-4\"}", 400);
    send("POST", "/api/v1/jobs/report", "", 202);
    send("POST", "/api/v1/jobs/report?fail=true", "", 202);
    send("GET", "/api/v1/fail", null, 500);
    send("GET", "/api/v1/slow?ms=30", null, 200);
    send("GET", "/api/v1/slow?ms=x", null, 400);
    send("GET", "/no/such/path", null, 404);
  }

  @AfterAll
  void stop() {
    if (context != null) {
      context.close();
    }
    System.setOut(originalOut);
  }

  @Test
  void everyRequestGetsItsStatus() {
    assertEquals(expected, outcomes);
  }

  @Test
  void metricsHaveTheGuidesNamesAndExactCountsByRouteTemplate() throws Exception {
    String scrape = get("/metrics");
    assertEquals(3.0, value(scrape, "http_requests_total", "GET", "/api/v1/users/{id}", "200"));
    assertEquals(2.0, value(scrape, "http_requests_total", "POST", "/api/v1/ai/chat", "200"));
    assertEquals(1.0, value(scrape, "http_requests_total", "POST", "/api/v1/ai/chat", "400"));
    assertEquals(
        2.0, value(scrape, "http_requests_total", "POST", "/api/v1/jobs/{jobType}", "202"));
    assertEquals(1.0, value(scrape, "http_requests_total", "GET", "/api/v1/fail", "500"));
    assertEquals(1.0, value(scrape, "http_requests_total", "GET", "/api/v1/slow", "200"));
    assertEquals(1.0, value(scrape, "http_requests_total", "GET", "NOT_FOUND", "404"));
    List<String> buckets =
        scrape
            .lines()
            .filter(line -> line.startsWith("http_request_duration_seconds_bucket{"))
            .filter(line -> line.contains("endpoint=\"/api/v1/users/{id}\""))
            .map(line -> line.replaceAll(".*le=\"([^\"]+)\".*", "$1"))
            .toList();
    assertEquals(
        List.of(
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0",
            "+Inf"),
        buckets,
        "the guide's buckets of /api/v1/users/{id}");
    assertTrue(
        scrape.contains(
            "ai_model_requests_total{model=\"gpt-4\",provider=\"openai\",status=\"success\"} 2.0"),
        "ai_model_requests_total");
    assertTrue(
        scrape.contains("ai_tokens_total{model=\"gpt-4\",provider=\"openai\",type=\"input\"}"));
    assertTrue(scrape.contains("ai_cost_usd_total{model=\"gpt-4\",provider=\"openai\"}"));
    assertTrue(
        scrape.contains("data_processing_jobs_total{job_type=\"report\",status=\"failure\"} 1.0"),
        "data_processing_jobs_total");
  }

  @Test
  void theScrapePassesPromtool() throws Exception {
    Path promtool = onPath("promtool");
    if (promtool == null) {
      if (System.getenv("CI") != null) {
        throw new AssertionError("promtool is required when CI is set (Debian package prometheus)");
      }
      Assumptions.abort("promtool not on PATH");
    }
    String guideFamilies =
        get(
            "/metrics?"
                + String.join(
                    "&",
                    List.of(
                            "http_requests_total",
                            "http_request_duration_seconds",
                            "ai_model_requests_total",
                            "ai_tokens_total",
                            "ai_cost_usd_total",
                            "ai_processing_duration_seconds",
                            "data_processing_jobs_total")
                        .stream()
                        .map(name -> "name%5B%5D=" + name)
                        .toList()));
    for (String family : List.of("http_requests_total", "ai_model_requests_total")) {
      assertTrue(guideFamilies.contains("# TYPE " + family.replace("_total", "")), family);
    }
    assertTrue(!guideFamilies.contains("jvm_"), "only the guide's families");
    Process process =
        new ProcessBuilder(promtool.toString(), "check", "metrics")
            .redirectErrorStream(true)
            .start();
    try (OutputStream in = process.getOutputStream()) {
      // The guide's families: Boot's own meters (http_server_requests_active, say) are not
      // conea's to change, and some of them lack help texts, which promtool reports.
      in.write(guideFamilies.getBytes(UTF_8));
    }
    String output = new String(process.getInputStream().readAllBytes(), UTF_8);
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, process.exitValue(), output);
  }

  @Test
  void stdoutIsJsonLinesWithOneErrorLineCarryingTheTraceId() throws Exception {
    String[] lines = captured.toString(UTF_8).split("\n");
    List<JsonNode> failLines = new ArrayList<>();
    for (String line : lines) {
      JsonNode event = json.readTree(line);
      assertTrue(event.isObject(), line);
      assertEquals("conea-api", event.path("service").asText(), line);
      assertTrue(event.has("timestamp") && event.has("level") && event.has("message"), line);
      if ("/api/v1/fail".equals(event.path("path").asText())) {
        failLines.add(event);
      }
    }
    // The failure's one line is its error line (it replaces the access line).
    assertEquals(1, failLines.size(), failLines.toString());
    JsonNode error = failLines.get(0);
    assertEquals("error", error.path("level").asText(), error.toString());
    assertEquals(500, error.path("status").asInt(), error.toString());
    assertTrue(error.path("duration_ms").isIntegralNumber(), error.toString());
    assertTrue(error.path("trace_id").asText().matches("[0-9a-f]{32}"), error.toString());
    assertEquals("java.lang.IllegalStateException", error.path("error").path("type").asText());
  }

  // ---------------------------------------------------------------------------------------------

  private void send(String method, String path, String body, int status) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(WAIT);
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request
          .header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    HttpResponse<String> response =
        client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    expected.add(method + " " + path + " " + status);
    outcomes.add(method + " " + path + " " + response.statusCode());
  }

  private String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create(base + path)).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    return response.body();
  }

  private static double value(
      String scrape, String name, String method, String endpoint, String status) {
    Pattern line =
        Pattern.compile(
            Pattern.quote(
                    name
                        + "{endpoint=\""
                        + endpoint
                        + "\",method=\""
                        + method
                        + "\",status=\""
                        + status
                        + "\"} ")
                + "(\\S+)");
    Matcher matcher = line.matcher(scrape);
    return matcher.find() ? Double.parseDouble(matcher.group(1)) : Double.NaN;
  }

  private static Path onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, command);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
