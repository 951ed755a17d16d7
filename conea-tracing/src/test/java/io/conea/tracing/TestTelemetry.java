package io.conea.tracing;

import io.conea.metrics.ConeaMetrics;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.extension.trace.propagation.JaegerPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real OpenTelemetry SDK exporting to memory and a real Prometheus registry with exemplars, as
 * the tests' observation points.
 */
public final class TestTelemetry {

  public static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0";

  public final InMemorySpanExporter spans = InMemorySpanExporter.create();
  public final OpenTelemetrySdk openTelemetry;
  public final PrometheusMeterRegistry registry;
  public final ConeaMetrics metrics;

  // The Jaeger propagator is deprecated upstream, yet services on jaeger-client still send it.
  @SuppressWarnings("deprecation")
  private TestTelemetry(Sampler sampler) {
    openTelemetry =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setSampler(sampler)
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .setPropagators(
                ContextPropagators.create(
                    TextMapPropagator.composite(
                        W3CTraceContextPropagator.getInstance(),
                        W3CBaggagePropagator.getInstance(),
                        JaegerPropagator.getInstance())))
            .build();
    registry =
        new PrometheusMeterRegistry(
            PrometheusConfig.DEFAULT,
            new PrometheusRegistry(),
            Clock.SYSTEM,
            OpenTelemetryExemplars.create());
    metrics = ConeaMetrics.builder(registry).build();
  }

  /** Every span sampled. */
  public static TestTelemetry alwaysOn() {
    return new TestTelemetry(Sampler.alwaysOn());
  }

  /** Spans sampled by the given sampler. */
  public static TestTelemetry withSampler(Sampler sampler) {
    return new TestTelemetry(sampler);
  }

  /** The guide's sampler: parent based, 10% of roots. */
  public static TestTelemetry guideSampler() {
    return new TestTelemetry(Sampler.parentBased(Sampler.traceIdRatioBased(0.1)));
  }

  public OpenTelemetry api() {
    return openTelemetry;
  }

  public List<SpanData> finishedSpans() {
    return spans.getFinishedSpanItems();
  }

  /** Waits until at least {@code count} spans have finished, then returns all finished spans. */
  public List<SpanData> awaitSpans(int count) throws InterruptedException {
    Await.until(() -> spans.getFinishedSpanItems().size() >= count);
    return spans.getFinishedSpanItems();
  }

  /** Returns the value of {@code tcp_connections{state="established"}}. */
  public double established() {
    return sample(scrape(), "tcp_connections", "state=\"established\"");
  }

  public String scrape() {
    return registry.scrape();
  }

  /** Returns the value of {@code http_requests_total} for the labels, 0 when absent. */
  public double requests(String method, String endpoint, String status) {
    return sample(
        scrape(),
        "http_requests_total",
        "endpoint=\"" + endpoint + "\",method=\"" + method + "\",status=\"" + status + "\"");
  }

  /** Returns the sum of {@code http_requests_total} over all labels. */
  public double totalRequests() {
    Matcher matcher = Pattern.compile("(?m)^http_requests_total\\{.*} (\\S+)$").matcher(scrape());
    double total = 0;
    while (matcher.find()) {
      total += Double.parseDouble(matcher.group(1));
    }
    return total;
  }

  /** Returns the sum of {@code http_requests_total} over the series with this status. */
  public double requestsWithStatus(int status) {
    return requestsByStatus(scrape(), labels -> true).getOrDefault(Integer.toString(status), 0.0);
  }

  /**
   * Returns {@code http_requests_total} of a Prometheus text scrape summed by status, over the
   * series whose labels (as written between the braces) {@code series} accepts.
   */
  public static Map<String, Double> requestsByStatus(String scrape, Predicate<String> series) {
    Matcher matcher = Pattern.compile("(?m)^http_requests_total\\{(.*)} (\\S+)$").matcher(scrape);
    Map<String, Double> sums = new TreeMap<>();
    while (matcher.find()) {
      String labels = matcher.group(1);
      if (!series.test(labels)) {
        continue;
      }
      for (String label : labels.split(",")) {
        if (label.startsWith("status=\"") && label.endsWith("\"")) {
          sums.merge(
              label.substring("status=\"".length(), label.length() - 1),
              Double.parseDouble(matcher.group(2)),
              Double::sum);
        }
      }
    }
    return sums;
  }

  public static double sample(String scrape, String name, String labels) {
    Matcher matcher =
        Pattern.compile("(?m)^" + Pattern.quote(name + "{" + labels + "}") + " (\\S+)")
            .matcher(scrape);
    return matcher.find() ? Double.parseDouble(matcher.group(1)) : 0;
  }

  public void close() {
    openTelemetry.close();
    metrics.close();
    registry.close();
  }
}
