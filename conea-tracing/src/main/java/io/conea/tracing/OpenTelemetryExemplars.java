package io.conea.tracing;

import io.opentelemetry.api.trace.Span;
import io.prometheus.metrics.tracer.common.SpanContext;

/**
 * Exemplars for Prometheus histograms, taken from the OpenTelemetry span current on the recording
 * thread.
 *
 * <p>Hand it to the Prometheus registry so that observations made while a sampled span is current
 * carry its trace id:
 *
 * <pre>{@code
 * PrometheusMetrics prometheus = PrometheusMetrics.create(OpenTelemetryExemplars.create());
 * ConeaMetrics metrics = ConeaMetrics.create(prometheus.registry());
 * }</pre>
 *
 * <p>It reads {@link Span#current()}, the context of the calling thread, never a global
 * OpenTelemetry instance.
 */
public final class OpenTelemetryExemplars implements SpanContext {

  OpenTelemetryExemplars() {}

  /** Returns an exemplar source backed by the current OpenTelemetry span. */
  public static OpenTelemetryExemplars create() {
    return new OpenTelemetryExemplars();
  }

  /** Returns the trace id of the current span, or null when no valid span is current. */
  @Override
  public String getCurrentTraceId() {
    io.opentelemetry.api.trace.SpanContext context = Span.current().getSpanContext();
    return context.isValid() ? context.getTraceId() : null;
  }

  /** Returns the span id of the current span, or null when no valid span is current. */
  @Override
  public String getCurrentSpanId() {
    io.opentelemetry.api.trace.SpanContext context = Span.current().getSpanContext();
    return context.isValid() ? context.getSpanId() : null;
  }

  /** Returns whether the current span is valid and sampled. */
  @Override
  public boolean isCurrentSpanSampled() {
    io.opentelemetry.api.trace.SpanContext context = Span.current().getSpanContext();
    return context.isValid() && context.isSampled();
  }

  /**
   * Marks the current span as an exemplar so that tail samplers keep the trace the exemplar points
   * to.
   */
  @Override
  public void markCurrentSpanAsExemplar() {
    Span span = Span.current();
    if (span.isRecording()) {
      span.setAttribute(EXEMPLAR_ATTRIBUTE_NAME, EXEMPLAR_ATTRIBUTE_VALUE);
    }
  }
}
