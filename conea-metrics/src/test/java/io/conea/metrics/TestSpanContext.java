package io.conea.metrics;

import io.prometheus.metrics.tracer.common.SpanContext;

/** A span context that always reports the same sampled span, as a tracer would inside a span. */
final class TestSpanContext implements SpanContext {

  static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  static final String SPAN_ID = "b7ad6b7169203331";

  @Override
  public String getCurrentTraceId() {
    return TRACE_ID;
  }

  @Override
  public String getCurrentSpanId() {
    return SPAN_ID;
  }

  @Override
  public boolean isCurrentSpanSampled() {
    return true;
  }

  @Override
  public void markCurrentSpanAsExemplar() {}
}
