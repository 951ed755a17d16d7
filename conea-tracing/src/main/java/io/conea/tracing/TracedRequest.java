package io.conea.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One HTTP request in flight, from {@link HttpServerTracing#start} to its single end.
 *
 * <p>{@link #makeCurrent()} installs its context and MDC values on the calling thread; one of the
 * {@code end} methods records the metrics and ends the span, once, from any thread.
 */
public final class TracedRequest {

  private static final AtomicIntegerFieldUpdater<TracedRequest> ENDED =
      AtomicIntegerFieldUpdater.newUpdater(TracedRequest.class, "ended");

  /** The error.type of a request whose connection closed before its response completed. */
  static final String CONNECTION_CLOSED = "connection_closed";

  private final HttpServerTracing tracing;
  final Context context;
  final Span span;
  final long startNanos;
  final String method;
  final String path;
  final String userId;
  final String organizationId;
  final String traceId;
  final String spanId;
  volatile String route;
  private volatile int responseStatus;
  private volatile int ended;

  TracedRequest(
      HttpServerTracing tracing,
      Context context,
      Span span,
      long startNanos,
      String method,
      String path,
      String route,
      String userId,
      String organizationId) {
    this.tracing = tracing;
    this.context = context;
    this.span = span;
    this.startNanos = startNanos;
    this.method = method;
    this.path = path;
    this.route = route;
    this.userId = userId;
    this.organizationId = organizationId;
    SpanContext spanContext = span.getSpanContext();
    this.traceId = spanContext.isValid() ? spanContext.getTraceId() : null;
    this.spanId = spanContext.isValid() ? spanContext.getSpanId() : null;
  }

  /**
   * Returns the request's context (its span and the propagated baggage), for handing work to other
   * threads.
   */
  public Context context() {
    return context;
  }

  /** Returns the request's span; a no-op span when the request is not traced. */
  public Span span() {
    return span;
  }

  /**
   * Makes the request's context current and puts its MDC values on this thread until the returned
   * scope is closed, which restores what was there before. Never throws.
   */
  public Scope makeCurrent() {
    Scope contextScope = null;
    try {
      contextScope = context.makeCurrent();
      return new RequestScope(this, contextScope);
    } catch (RuntimeException e) {
      reportFailure("making the request context current", e);
      if (contextScope != null) {
        contextScope.close();
      }
      return Scope.noop();
    }
  }

  void reportFailure(String what, Throwable failure) {
    tracing.reportFailure(what, failure);
  }

  /**
   * Notes the status of the response whose headers are being sent, for {@link
   * #endConnectionClosed()}.
   */
  public void responseStatus(int status) {
    this.responseStatus = status;
  }

  /** Returns the status noted by {@link #responseStatus(int)}, or 0 when none was. */
  public int responseStatus() {
    return responseStatus;
  }

  /** Returns whether the request has ended. */
  public boolean isEnded() {
    return ended != 0;
  }

  /**
   * Ends the request with the response status: records the metrics while the span is current, then
   * ends the span. Only the first end of a request counts; later calls do nothing.
   *
   * @param status the response status code
   * @param error the exception that ended the request, or null; it marks the span as an error
   * @param frameworkRoute the route template the framework matched, used when the {@link
   *     RouteResolver} knew none, or null
   */
  public void end(int status, Throwable error, String frameworkRoute) {
    if (ENDED.compareAndSet(this, 0, 1)) {
      tracing.finish(
          this, status, true, error, null, frameworkRoute, System.nanoTime() - startNanos);
    }
  }

  /**
   * Ends a request whose connection closed before its response completed. The request is counted
   * with the status already sent, or 500 when none was (a client giving up usually means a slow
   * server, which the 5xx error rate must show); the span is marked as an error with {@code
   * error.type=connection_closed}.
   */
  public void endConnectionClosed() {
    if (ENDED.compareAndSet(this, 0, 1)) {
      int sent = responseStatus;
      tracing.finish(
          this,
          sent > 0 ? sent : 500,
          sent > 0,
          null,
          CONNECTION_CLOSED,
          null,
          System.nanoTime() - startNanos);
    }
  }
}
