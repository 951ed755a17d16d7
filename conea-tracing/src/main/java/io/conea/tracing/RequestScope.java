package io.conea.tracing;

import static io.conea.tracing.HttpServerTracing.MDC_METHOD;
import static io.conea.tracing.HttpServerTracing.MDC_ORGANIZATION_ID;
import static io.conea.tracing.HttpServerTracing.MDC_PATH;
import static io.conea.tracing.HttpServerTracing.MDC_SPAN_ID;
import static io.conea.tracing.HttpServerTracing.MDC_TRACE_ID;
import static io.conea.tracing.HttpServerTracing.MDC_USER_ID;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * A request's context and MDC values on one thread; closing restores the previous ones, so that
 * pooled and event-loop threads carry nothing from one request to the next.
 */
final class RequestScope implements Scope {

  /** The request whose scope is innermost on this thread; set to null, never removed, when none. */
  private static final ThreadLocal<TracedRequest> current = new ThreadLocal<>();

  private final TracedRequest request;
  private final Scope contextScope;
  private final TracedRequest previousRequest;
  private final @Nullable String previousTraceId;
  private final @Nullable String previousSpanId;
  private final @Nullable String previousMethod;
  private final @Nullable String previousPath;
  private final @Nullable String previousUserId;
  private final @Nullable String previousOrganizationId;
  private boolean closed;

  RequestScope(TracedRequest request, Scope contextScope) {
    this.request = request;
    this.contextScope = contextScope;
    this.previousTraceId = MDC.get(MDC_TRACE_ID);
    this.previousSpanId = MDC.get(MDC_SPAN_ID);
    this.previousMethod = MDC.get(MDC_METHOD);
    this.previousPath = MDC.get(MDC_PATH);
    this.previousUserId = MDC.get(MDC_USER_ID);
    this.previousOrganizationId = MDC.get(MDC_ORGANIZATION_ID);
    this.previousRequest = current.get();
    set(MDC_TRACE_ID, request.traceId);
    set(MDC_SPAN_ID, request.spanId);
    set(MDC_METHOD, request.method);
    set(MDC_PATH, request.path);
    set(MDC_USER_ID, request.userId);
    set(MDC_ORGANIZATION_ID, request.organizationId);
    current.set(request);
  }

  /**
   * Returns whether the request's scope is innermost on this thread with its context still current,
   * so that making it current again would change nothing.
   */
  static boolean isCurrent(TracedRequest request) {
    return current.get() == request && Context.current() == request.context;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      set(MDC_TRACE_ID, previousTraceId);
      set(MDC_SPAN_ID, previousSpanId);
      set(MDC_METHOD, previousMethod);
      set(MDC_PATH, previousPath);
      set(MDC_USER_ID, previousUserId);
      set(MDC_ORGANIZATION_ID, previousOrganizationId);
    } catch (RuntimeException | LinkageError e) {
      request.reportFailure("restoring the MDC", e);
    } finally {
      current.set(previousRequest);
      contextScope.close();
    }
  }

  private static void set(String key, @Nullable String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }
}
