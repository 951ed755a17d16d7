package io.conea.benchmarks.overhead;

import static org.assertj.core.api.Assertions.assertThat;

import io.conea.benchmarks.overhead.OverheadService.Variant;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The measured service does what run.sh measures: it answers the route, and each instrumented
 * variant counts the request in its own scrape; conea's spans reach the sink. No load, no timing.
 */
class OverheadServiceTest {

  private static final HttpClient client = HttpClient.newHttpClient();
  private static OtlpSink sink;

  @BeforeAll
  static void startSink() throws Exception {
    sink = OtlpSink.start(0);
  }

  @AfterAll
  static void stopSink() {
    sink.close();
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void uninstrumentedServiceAnswersTheRoute() throws Exception {
    try (OverheadService service = OverheadService.start(Variant.NONE, "127.0.0.1", 0)) {
      HttpResponse<String> response = get(service.port(), "/api/v1/users/42");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type"))
          .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
      assertThat(response.body())
          .isEqualTo(
              "{\"id\":42,\"name\":\"user-42\",\"email\":\"user-42@example.com\",\"active\":true}");
      assertThat(get(service.port(), "/api/v1/users/x").statusCode()).isEqualTo(404);
      assertThat(get(service.port(), "/metrics").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void coneaCountsTheRequestUnderItsRouteAndExportsItsSpan() throws Exception {
    long before = sink.posts();
    String endpoint = "http://127.0.0.1:" + sink.port();
    // Every request sampled, and exported at once, so that one request shows the export path.
    Map<String, String> config =
        Map.of(
            "otel.exporter.otlp.endpoint", endpoint,
            "otel.traces.sampler", "always_on",
            "otel.bsp.schedule.delay", "10");
    withSystemProperties(
        config,
        () -> {
          try (OverheadService service = OverheadService.start(Variant.CONEA, "127.0.0.1", 0)) {
            assertThat(get(service.port(), "/api/v1/users/7").statusCode()).isEqualTo(200);
            String scrape = get(service.port(), "/metrics").body();
            assertThat(scrape)
                .containsPattern(
                    "(?m)^http_requests_total\\{[^}]*endpoint=\"/api/v1/users/\\{id\\}\"[^}]*\\}"
                        + " 1(\\.0)?$");
          }
        });
    // close() flushed the span processor.
    assertThat(sink.posts()).isGreaterThan(before);
  }

  @Test
  void micrometerCountsTheRequestUnderItsRoute() throws Exception {
    try (OverheadService service = OverheadService.start(Variant.MICROMETER, "127.0.0.1", 0)) {
      assertThat(get(service.port(), "/api/v1/users/7").statusCode()).isEqualTo(200);
      String scrape = get(service.port(), "/metrics").body();
      assertThat(scrape)
          .containsPattern(
              "(?m)^http_server_requests_seconds_count\\{[^}]*uri=\"/api/v1/users/\\{id\\}\"[^}]*\\}"
                  + " 1(\\.0)?$");
    }
  }

  @Test
  void reportReplacesOnlyItsOwnSection() {
    List<String> tsv =
        List.of(
            "round\tvariant\tstartup_ms\trps\tp50_ms\tp99_ms\trss_mib\talloc_mb_s\tcpu_us_request"
                + "\trequests\terrors\texports\tcounted\twarmup_rps\tjit_ms\tload1",
            "1\tnone\t500\t10000\t1\t5\t100\t50\t90\t100000\t0\t0\t-\t8000\t40\t2.0",
            "1\tconea\t800\t9000\t1.1\t6\t120\t80\t100\t90000\t0\t30\t90001\t6000\t60\t2.0",
            "1\tagent\t2000\t6000\t1.5\t9\t300\t200\t150\t60000\t0\t40\t60001\t2000\t900\t2.0");
    String section =
        OverheadReport.section(OverheadReport.parse(tsv), Map.of("date", "2026-12-02"));
    // Loss: conea 10%, agent 40% (limit 13.3%): met. Added start-up: 300 vs 1500 ms (limit 500):
    // met.
    assertThat(section).contains("| conea 10.0%, agent 40.0%, limit 13.3% | met");
    assertThat(section).contains("| conea 300 ms, agent 1,500 ms, limit 500 ms | met");
    assertThat(section).contains("| OpenTelemetry Java agent | 6,000 (0.67) | 40.0% (4.00) |");
    // CPU per request: conea 1 - 90/100 = 10%, agent 1 - 90/150 = 40%.
    assertThat(section).contains("| conea 10.0%, agent 40.0%, limit 13.3% | met", "150.0 (1.50) |");
    // Warm-up: conea 1 - 6000/8000 = 25%, agent 75% (limit 25%): met, and its column.
    assertThat(section)
        .contains("| conea 25.0%, agent 75.0%, limit 25.0% | met", "| 2,000 (0.33) |");
    assertThat(section)
        .contains("| 1 | agent | 6,000 | 9.00 | 2,000 | 150.0 | 900 | 2,000 | 2.00 |");

    String document = "# Results\n\nintro\n\n## Old\n\ntext\n";
    String once = OverheadReport.replaceSection(document, section);
    assertThat(once).startsWith(document).endsWith(section);
    String twice =
        OverheadReport.replaceSection(once + "## After\n\nkept\n", section.replace("met", "x"));
    assertThat(twice)
        .startsWith(document)
        .contains(section.replace("met", "x"))
        .doesNotContain("| met")
        .endsWith("## After\n\nkept\n");
  }

  private interface Body {
    void run() throws Exception;
  }

  private static void withSystemProperties(Map<String, String> properties, Body body)
      throws Exception {
    properties.forEach(System::setProperty);
    try {
      body.run();
    } finally {
      properties.keySet().forEach(System::clearProperty);
    }
  }
}
