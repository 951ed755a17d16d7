package io.conea.metrics.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.prometheus.metrics.tracer.common.SpanContext;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPInputStream;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetricsServletTest {

  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

  private final PrometheusMetrics prometheus =
      PrometheusMetrics.create(
          new SpanContext() {
            @Override
            public String getCurrentTraceId() {
              return TRACE_ID;
            }

            @Override
            public String getCurrentSpanId() {
              return "00f067aa0ba902b7";
            }

            @Override
            public boolean isCurrentSpanSampled() {
              return true;
            }

            @Override
            public void markCurrentSpanAsExemplar() {}
          });
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Server server;
  private URI uri;

  @BeforeEach
  void start() throws Exception {
    ConeaMetrics.builder(prometheus.registry())
        .bindJvmMetrics(false)
        .build()
        .http()
        .record("POST", "/api/v1/ai/chat", "/api/v1/ai/chat", 200, 245_000_000L);
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.addServlet(new ServletHolder(MetricsServlet.create(prometheus)), "/metrics");
    server.setHandler(context);
    server.start();
    uri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/metrics");
  }

  @AfterEach
  void stop() throws Exception {
    server.stop();
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
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
    assertThat(response.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(new String(response.body(), StandardCharsets.UTF_8))
        .contains(
            "http_requests_total{endpoint=\"/api/v1/ai/chat\",method=\"POST\",status=\"200\"} 1.0")
        .doesNotContain("trace_id");
  }

  @Test
  void servesOpenMetricsWithExemplarsWhenAsked() throws Exception {
    HttpResponse<byte[]> response =
        send(
            HttpRequest.newBuilder(uri)
                .header(
                    "Accept",
                    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(
            type -> assertThat(type).startsWith("application/openmetrics-text; version=1.0.0"));
    assertThat(new String(response.body(), StandardCharsets.UTF_8))
        .contains("le=\"0.25\"} 1 # {span_id=\"00f067aa0ba902b7\",trace_id=\"" + TRACE_ID + "\"}")
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
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
    assertThat(response.body()).isEmpty();
  }

  @Test
  void postIsNotAllowed() throws Exception {
    HttpResponse<byte[]> response =
        send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("x")));

    assertThat(response.statusCode()).isEqualTo(405);
  }

  @Test
  void createRejectsNull() {
    assertThatThrownBy(() -> MetricsServlet.create(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("metrics");
  }
}
