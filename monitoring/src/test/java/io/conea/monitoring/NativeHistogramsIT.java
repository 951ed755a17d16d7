package io.conea.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.HttpServerMetrics;
import io.conea.metrics.PrometheusMetrics;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * conea's {@code nativeHistograms(true)} scraped by a real Prometheus with native histograms
 * enabled: Prometheus negotiates the protobuf format, stores the native histogram, and answers the
 * guide's latency query from it far more precisely than from the 11 classic buckets.
 */
class NativeHistogramsIT {

  private static final String ROUTE = "/api/v1/users/{id}";
  private static final String P95 =
      "histogram_quantile(0.95, sum(rate(http_request_duration_seconds[1m])))";

  @TempDir Path dir;

  @Test
  void prometheusAnswersTheQuantileQueryFromTheNativeHistogram() throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    List<String> accepts = new CopyOnWriteArrayList<>();
    ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    try (PrometheusMetrics prometheus = PrometheusMetrics.builder().jvmMetrics(false).build()) {
      HttpServerMetrics http =
          ConeaMetrics.builder(prometheus.registry()).nativeHistograms(true).build().http();
      server.createContext(
          "/metrics",
          exchange -> {
            accepts.add(String.valueOf(exchange.getRequestHeaders().getFirst("Accept")));
            prometheus.httpHandler().handle(exchange);
          });
      server.start();
      // Every 100 ms, 200 requests of 1, 2, ... 200 ms: the 95th percentile is 190 ms, where the
      // classic buckets (0.1, 0.25] would interpolate to 235 ms.
      load.scheduleAtFixedRate(
          () -> {
            for (int i = 1; i <= 200; i++) {
              http.record("GET", ROUTE, "/api/v1/users/1", 200, i * 1_000_000L);
            }
          },
          0,
          100,
          TimeUnit.MILLISECONDS);

      try (PrometheusProcess scraper =
          PrometheusProcess.start(
              config(server.getAddress().getPort()), dir, client, "native-histograms")) {
        JsonNode answer = awaitResult(scraper, P95);
        double p95 = answer.get(0).at("/value/1").asDouble();
        assertThat(p95).as("95th percentile from the native histogram").isBetween(0.185, 0.195);
        assertThat(accepts)
            .isNotEmpty()
            .allSatisfy(
                accept ->
                    assertThat(accept)
                        .startsWith("application/vnd.google.protobuf;proto=io.prometheus.client"));
        JsonNode requests =
            awaitResult(scraper, "sum(rate(http_requests_total[1m]))").get(0).at("/value/1");
        assertThat(requests.asDouble()).isGreaterThan(0);
      }
    } finally {
      load.shutdownNow();
      server.stop(0);
    }
  }

  private Path config(int port) throws IOException {
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(
        config,
        "global:\n"
            + "  scrape_interval: 1s\n"
            + "scrape_configs:\n"
            + "  - job_name: conea\n"
            + "    static_configs:\n"
            + "      - targets: ['127.0.0.1:"
            + port
            + "']\n");
    return config;
  }

  private static JsonNode awaitResult(PrometheusProcess prometheus, String query) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    JsonNode result = null;
    while (System.nanoTime() < deadline) {
      result = prometheus.query(query, System.currentTimeMillis() / 1000.0).result();
      if (result.isArray()
          && result.size() > 0
          && !result.get(0).at("/value/1").asText().equals("NaN")) {
        return result;
      }
      DemoProcess.pause(Duration.ofMillis(500));
    }
    throw new AssertionError(
        query + " gave no result within 30 s: " + result + "\n" + prometheus.output());
  }
}
