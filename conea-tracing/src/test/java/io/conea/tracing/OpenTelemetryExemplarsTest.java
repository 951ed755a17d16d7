package io.conea.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.PrometheusMetrics;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@SuppressWarnings("try") // scopes are held for what they make current
class OpenTelemetryExemplarsTest {

  private final TestTelemetry telemetry = TestTelemetry.alwaysOn();
  private final OpenTelemetryExemplars exemplars = OpenTelemetryExemplars.create();

  @AfterEach
  void close() {
    telemetry.close();
  }

  @Test
  void reportsNothingWithoutACurrentSpan() {
    assertThat(exemplars.getCurrentTraceId()).isNull();
    assertThat(exemplars.getCurrentSpanId()).isNull();
    assertThat(exemplars.isCurrentSpanSampled()).isFalse();
    exemplars.markCurrentSpanAsExemplar();
  }

  @Test
  void reportsTheCurrentSampledSpanAndMarksIt() {
    Span span = telemetry.api().getTracer("test").spanBuilder("work").startSpan();
    try (Scope scope = span.makeCurrent()) {
      assertThat(exemplars.getCurrentTraceId()).isEqualTo(span.getSpanContext().getTraceId());
      assertThat(exemplars.getCurrentSpanId()).isEqualTo(span.getSpanContext().getSpanId());
      assertThat(exemplars.isCurrentSpanSampled()).isTrue();
      exemplars.markCurrentSpanAsExemplar();
    } finally {
      span.end();
    }
    assertThat(
            telemetry
                .finishedSpans()
                .get(0)
                .getAttributes()
                .get(AttributeKey.stringKey("exemplar")))
        .isEqualTo("true");
  }

  @Test
  void unsampledSpanIsNotSampled() {
    SpanContext unsampled =
        SpanContext.create(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "00f067aa0ba902b7",
            TraceFlags.getDefault(),
            TraceState.getDefault());
    try (Scope scope = Span.wrap(unsampled).makeCurrent()) {
      assertThat(exemplars.getCurrentTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
      assertThat(exemplars.isCurrentSpanSampled()).isFalse();
    }
  }

  @Test
  void prometheusMetricsWiredWithItShowsTheRequestTraceIdAsExemplar() {
    try (PrometheusMetrics prometheus =
        PrometheusMetrics.builder()
            .exemplars(OpenTelemetryExemplars.create())
            .jvmMetrics(false)
            .build()) {
      ConeaMetrics metrics = ConeaMetrics.builder(prometheus.registry()).build();
      HttpServerTracing tracing =
          HttpServerTracing.builder(telemetry.api(), metrics)
              .routes(RouteTemplates.of("/api/v1/ai/chat"))
              .build();
      TracedRequest traced =
          tracing.start(new FakeRequest("POST", "/api/v1/ai/chat", null), FakeRequest.ACCESSOR);
      traced.end(200, null, null);

      assertThat(prometheus.registry().scrape(TestTelemetry.OPENMETRICS))
          .contains(
              "http_requests_total{endpoint=\"/api/v1/ai/chat\",method=\"POST\",status=\"200\"} 1")
          .contains("trace_id=\"" + traced.span().getSpanContext().getTraceId() + "\"");
    }
  }
}
