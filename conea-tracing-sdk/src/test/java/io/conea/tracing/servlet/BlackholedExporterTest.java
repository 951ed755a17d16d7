package io.conea.tracing.servlet;

import static io.conea.tracing.servlet.ConeaTracingFilterTest.get;
import static io.conea.tracing.servlet.ConeaTracingFilterTest.startJetty;
import static org.assertj.core.api.Assertions.assertThat;

import io.conea.metrics.ConeaMetrics;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.sdk.Blackhole;
import io.conea.tracing.sdk.ConeaTracing;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;

/** The servlet filter on conea's SDK set-up, exporting to a collector that never answers. */
class BlackholedExporterTest {

  @Test
  void blackholedExporterLeavesLatencyUnchangedAndCloseReturnsWithinItsBound() throws Exception {
    try (Blackhole blackhole = new Blackhole()) {
      ConeaTracing coneaTracing =
          ConeaTracing.builder("conea-api")
              .config(
                  Map.of(
                      "OTEL_EXPORTER_OTLP_ENDPOINT", blackhole.endpoint(),
                      "OTEL_TRACES_SAMPLER", "always_on",
                      "OTEL_BSP_SCHEDULE_DELAY", "1",
                      "OTEL_BSP_MAX_QUEUE_SIZE", "64",
                      "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8"))
              .shutdownTimeout(Duration.ofMillis(500))
              .build();
      ConeaMetrics metrics = ConeaMetrics.builder(new SimpleMeterRegistry()).build();
      Server instrumented =
          startJetty(
              ConeaTracingFilter.create(
                  HttpServerTracing.create(coneaTracing.openTelemetry(), metrics)));
      Server plain = startJetty(null);
      try {
        for (int i = 0; i < 30; i++) { // warm up both
          get(instrumented, "/api/v1/users/" + i);
          get(plain, "/api/v1/users/" + i);
        }
        List<Long> instrumentedNanos = new ArrayList<>();
        List<Long> plainNanos = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          instrumentedNanos.add(timed(instrumented, "/api/v1/users/" + i));
          plainNanos.add(timed(plain, "/api/v1/users/" + i));
        }
        assertThat(blackhole.acceptedConnections()).isPositive();
        long instrumentedMedian = median(instrumentedNanos);
        long plainMedian = median(plainNanos);
        assertThat(instrumentedMedian)
            .as("median latency with a blackholed exporter vs without instrumentation")
            .isLessThan(plainMedian * 3 + TimeUnit.MILLISECONDS.toNanos(5));
      } finally {
        instrumented.stop();
        plain.stop();
      }
      long start = System.nanoTime();
      coneaTracing.close();
      assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(3));
    }
  }

  private static long timed(Server jetty, String path) throws Exception {
    long start = System.nanoTime();
    HttpResponse<String> response = get(jetty, path);
    long elapsed = System.nanoTime() - start;
    assertThat(response.statusCode()).isEqualTo(200);
    return elapsed;
  }

  private static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }
}
