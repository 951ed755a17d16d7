package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every adapter serving {@link PrometheusMetrics#scrape} over HTTP must do, checked through a
 * real server on loopback: each adapter's test extends this and starts its server.
 */
public abstract class ScrapeEndpointContract {

  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  protected final PrometheusMetrics prometheus =
      PrometheusMetrics.builder().exemplars(new TestSpanContext()).jvmMetrics(false).build();
  protected URI uri;

  /** Starts a server on 127.0.0.1 serving {@code prometheus}; returns the scrape's address. */
  protected abstract URI serve(PrometheusMetrics prometheus) throws Exception;

  /** Stops the server. */
  protected abstract void stopServing() throws Exception;

  @BeforeEach
  void recordAndServe() throws Exception {
    ConeaMetrics.builder(prometheus.registry())
        .build()
        .http()
        .record("POST", "/api/v1/ai/chat", "/api/v1/ai/chat", 200, 245_000_000L);
    uri = serve(prometheus);
  }

  @AfterEach
  void stop() throws Exception {
    stopServing();
    prometheus.close();
  }

  protected HttpResponse<byte[]> send(HttpRequest.Builder request) throws Exception {
    return client.send(
        request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void servesPrometheusTextOnGet() throws Exception {
    HttpResponse<byte[]> response = send(HttpRequest.newBuilder(uri));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(response.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(new String(response.body(), StandardCharsets.UTF_8))
        .contains(
            "http_requests_total{endpoint=\"/api/v1/ai/chat\",method=\"POST\",status=\"200\"} 1.0")
        .doesNotContain("trace_id");
  }

  @Test
  void servesOpenMetricsWithExemplarsWhenAskedInSeveralAcceptHeaders() throws Exception {
    HttpResponse<byte[]> response =
        send(
            HttpRequest.newBuilder(uri)
                .header("Accept", "application/openmetrics-text;version=1.0.0")
                .header("Accept", "text/plain;version=0.0.4;q=0.5"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
    assertThat(new String(response.body(), StandardCharsets.UTF_8))
        .contains(
            "le=\"0.25\"} 1 # {span_id=\""
                + TestSpanContext.SPAN_ID
                + "\",trace_id=\""
                + TestSpanContext.TRACE_ID
                + "\"}")
        .endsWith("# EOF\n");
  }

  @Test
  void gzipsWhenAsked() throws Exception {
    HttpResponse<byte[]> response =
        send(HttpRequest.newBuilder(uri).header("Accept-Encoding", "gzip, deflate"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Encoding")).hasValue("gzip");
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
          .contains("# HELP http_request_duration_seconds HTTP request latency");
    }
  }

  @Test
  void headSendsTheHeadersWithoutABody() throws Exception {
    HttpResponse<byte[]> response =
        send(HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(response.body()).isEmpty();
  }

  @Test
  void postIsNotAllowed() throws Exception {
    HttpResponse<byte[]> response =
        send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("x")));

    assertThat(response.statusCode()).isEqualTo(405);
  }

  @Test
  void queryParametersSelectMetrics() throws Exception {
    HttpResponse<byte[]> response =
        send(HttpRequest.newBuilder(URI.create(uri + "?name[]=http_requests_total")));

    assertThat(Samples.parse(new String(response.body(), StandardCharsets.UTF_8)).names())
        .containsExactly("http_requests_total");
  }
}
