package io.conea.logging;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import org.jspecify.annotations.Nullable;

/**
 * Reads the ids of the current OpenTelemetry span.
 *
 * <p>opentelemetry-api is an optional dependency: this is the only class that refers to it, its
 * methods expose no OpenTelemetry type, and the encoder loads it only after finding the API on the
 * class path.
 */
final class CurrentSpan {

  private CurrentSpan() {}

  /** The context of the span current on this thread, or null when there is no valid one. */
  static @Nullable Object validContext() {
    SpanContext context = Span.current().getSpanContext();
    return context.isValid() ? context : null;
  }

  /** The trace id of a context returned by {@link #validContext}. */
  static String traceId(Object context) {
    return ((SpanContext) context).getTraceId();
  }

  /** The span id of a context returned by {@link #validContext}. */
  static String spanId(Object context) {
    return ((SpanContext) context).getSpanId();
  }
}
