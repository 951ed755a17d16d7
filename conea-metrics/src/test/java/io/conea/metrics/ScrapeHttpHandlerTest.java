package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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

class ScrapeHttpHandlerTest {

  private final PrometheusMetrics prometheus = PrometheusMetrics.create(new TestSpanContext());
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private HttpServer server;
  private URI uri;

  @BeforeEach
  void start() throws IOException {
    ConeaMetrics.builder(prometheus.registry())
        .bindJvmMetrics(false)
        .build()
        .http()
        .record("GET", "/api/v1/users/{id}", "/api/v1/users/1", 200, 3_000_000L);
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/metrics", prometheus.httpHandler());
    server.start();
    uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/metrics");
  }

  @AfterEach
  void stop() {
    server.stop(0);
    prometheus.close();
  }

  private HttpResponse<byte[]> send(HttpRequest.Builder request) throws Exception {
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
            "http_requests_total{endpoint=\"/api/v1/users/{id}\",method=\"GET\",status=\"200\"} 1.0")
        .doesNotContain("trace_id");
  }

  @Test
  void servesOpenMetricsWithExemplarsWhenAsked() throws Exception {
    HttpResponse<byte[]> response =
        send(
            HttpRequest.newBuilder(uri)
                .header("Accept", "application/openmetrics-text;version=1.0.0")
                .header("Accept", "text/plain;version=0.0.4;q=0.5"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
    assertThat(new String(response.body(), StandardCharsets.UTF_8))
        .contains("trace_id=\"" + TestSpanContext.TRACE_ID + "\"")
        .endsWith("# EOF\n");
  }

  @Test
  void gzipsWhenAsked() throws Exception {
    HttpResponse<byte[]> response =
        send(HttpRequest.newBuilder(uri).header("Accept-Encoding", "gzip"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Encoding")).hasValue("gzip");
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
          .contains("# TYPE http_request_duration_seconds histogram");
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
  void otherMethodsAreNotAllowed() throws Exception {
    HttpResponse<byte[]> response =
        send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("x")));

    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.headers().firstValue("Allow")).hasValue("GET, HEAD");
  }

  @Test
  void queryParametersSelectMetrics() throws Exception {
    HttpResponse<byte[]> response =
        send(HttpRequest.newBuilder(URI.create(uri + "?name[]=http_requests_total")));

    assertThat(Samples.parse(new String(response.body(), StandardCharsets.UTF_8)).names())
        .containsExactly("http_requests_total");
  }
}
