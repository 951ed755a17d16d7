package io.conea.benchmarks;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.OpenTelemetryExemplars;
import io.conea.tracing.RouteTemplates;
import io.micrometer.core.instrument.Counter;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.Collection;
import java.util.concurrent.atomic.LongAdder;

/**
 * One service's telemetry, the same for conea and for the OpenTelemetry alternative: an
 * OpenTelemetry SDK whose sampler keeps every trace or none, with spans handed to an exporter that
 * counts and discards them, and metrics collected in memory; and conea's meters on a Prometheus
 * registry that takes exemplars from the current span, as the guide's setup does.
 */
final class Telemetry implements AutoCloseable {

  final OpenTelemetrySdk openTelemetry;
  final CollectingMetricReader otelMetrics = new CollectingMetricReader();
  final PrometheusMetrics prometheus =
      PrometheusMetrics.builder()
          .exemplars(OpenTelemetryExemplars.create())
          .jvmMetrics(false)
          .build();
  final ConeaMetrics metrics;
  final HttpServerTracing tracing;
  private final boolean sampled;
  private final LongAdder exportedSpans = new LongAdder();

  Telemetry(boolean sampled) {
    this.sampled = sampled;
    SpanExporter discarding =
        new SpanExporter() {
          @Override
          public CompletableResultCode export(Collection<SpanData> spans) {
            exportedSpans.add(spans.size());
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
          }
        };
    openTelemetry =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setSampler(sampled ? Sampler.alwaysOn() : Sampler.alwaysOff())
                    .addSpanProcessor(SimpleSpanProcessor.create(discarding))
                    .build())
            .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(otelMetrics).build())
            .setPropagators(
                ContextPropagators.create(
                    TextMapPropagator.composite(
                        W3CTraceContextPropagator.getInstance(),
                        W3CBaggagePropagator.getInstance())))
            .build();
    metrics = ConeaMetrics.builder(prometheus.registry()).routes(Requests.ROUTE_TEMPLATES).build();
    tracing =
        HttpServerTracing.builder(openTelemetry, metrics)
            .routes(RouteTemplates.of(Requests.ROUTE_TEMPLATES))
            // Always on and always off decide without attributes, as conea-tracing-sdk declares.
            .samplerReadsAttributes(false)
            .build();
  }

  /** Fails unless conea counted requests and, when sampling, spans were exported. */
  void verifyConea() {
    double requests =
        prometheus.registry().find("http.requests").counters().stream()
            .mapToDouble(Counter::count)
            .sum();
    Checks.check(requests > 0, "conea counted no HTTP request");
    verifySpans();
    Checks.check(
        tracing.instrumentationFailures() == 0,
        "conea reported " + tracing.instrumentationFailures() + " instrumentation failures");
  }

  /** Fails unless OpenTelemetry recorded its HTTP server duration and, when sampling, spans. */
  void verifyOpenTelemetry() {
    Collection<MetricData> collected = otelMetrics.collect();
    Checks.check(
        collected.stream().anyMatch(m -> m.getName().equals("http.server.request.duration")),
        "OpenTelemetry recorded no http.server.request.duration, only " + collected);
    verifySpans();
  }

  private void verifySpans() {
    long spans = exportedSpans.sum();
    if (sampled) {
      Checks.check(spans > 0, "no span was exported although every trace is sampled");
    } else {
      Checks.check(spans == 0, spans + " spans were exported although no trace is sampled");
    }
  }

  @Override
  public void close() {
    metrics.close();
    prometheus.close();
    openTelemetry.close();
  }
}
