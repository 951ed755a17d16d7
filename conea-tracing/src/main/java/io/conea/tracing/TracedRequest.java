package io.conea.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP request in flight, from {@link HttpServerTracing#start} to its single end.
 *
 * <p>{@link #makeCurrent()} installs its context and MDC values on the calling thread; one of the
 * {@code end} methods records the metrics and ends the span, once, from any thread.
 */
public final class TracedRequest {

  private static final AtomicIntegerFieldUpdater<TracedRequest> ENDING =
      AtomicIntegerFieldUpdater.newUpdater(TracedRequest.class, "ended");

  /**
   * The status counted for a request whose connection closed before any response was sent: nginx's
   * "client closed request".
   */
  public static final int CLIENT_CLOSED_REQUEST = 499;

  /** The error.type of a request whose connection closed before its response completed. */
  static final String CONNECTION_CLOSED = "connection_closed";

  /** The error.type of a request whose connection the server side closed without answering it. */
  static final String CONNECTION_CLOSED_BY_SERVER = "connection_closed_by_server";

  /** The error.type of a request whose response the instrumentation could no longer see. */
  static final String RESPONSE_UNOBSERVED = "response_unobserved";

  /** The catch-all pattern of Spring's static-resource handler. */
  private static final String CATCH_ALL = "/**";

  /** Out of the status range on purpose: conea-metrics counts it as status {@code _OTHER}. */
  private static final int UNKNOWN_STATUS = 0;

  private final HttpServerTracing tracing;
  final Context context;
  final Span span;
  final long startNanos;
  final String method;
  final String path;
  final @Nullable String userId;
  final @Nullable String organizationId;
  final @Nullable String traceId;
  final @Nullable String spanId;
  volatile @Nullable String route;

  /** The exception that ended the request, written by the end that wins, before finishing. */
  @Nullable Throwable error;

  /**
   * The request attribute with which a transport-level observer (conea's Jetty handler) tells the
   * adapter that it will report the request's completion through {@link #transportCompleted}: the
   * adapter then calls {@link #deferEndToTransport()}, so that the request is counted with what the
   * client received once the response is written or failed.
   */
  public static final String TRANSPORT_OBSERVED_ATTRIBUTE = "io.conea.tracing.transportObserved";

  private static final AtomicIntegerFieldUpdater<TracedRequest> ARRIVING =
      AtomicIntegerFieldUpdater.newUpdater(TracedRequest.class, "arrived");

  /** 0 unless deferred; then {@link #DEFERRED} and a bit for each party that arrived. */
  private volatile int arrived;

  private static final int DEFERRED = 1;
  private static final int ADAPTER = 2;
  private static final int TRANSPORT = 4;

  // The adapter's end while deferred, written before it arrives.
  private int adapterStatus;
  private @Nullable Throwable adapterError;
  private @Nullable String adapterRoute;
  private boolean adapterAborted;

  // The transport's completion while deferred, written before it arrives.
  private int transportStatus;
  private boolean transportFailed;
  private boolean transportInputShutdown;

  /** The status noted when headers went out, for an end that has no status of its own. */
  private volatile int responseStatus;

  /**
   * 0 while open; once ended, {@link #ENDED}, the outcome's flags and, from bit {@link
   * #STATUS_SHIFT} up, the status the request is counted with: one word, so that ending needs no
   * field more than the request had before (and no other thread's {@link #responseStatus(int)} can
   * change what was counted).
   */
  private volatile int ended;

  private static final int ENDED = 1;
  private static final int STATUS_SENT = 2;
  private static final int CLOSED = 4;
  private static final int UNOBSERVED = 8;
  private static final int LATE_ROUTE = 16;
  private static final int SERVER_CLOSED = 32;
  private static final int STATUS_SHIFT = 8;

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
   * scope is closed, which restores what was there before. When the request is current already (its
   * scope is the innermost one on this thread), returns a no-op scope at no cost. Never throws.
   */
  public Scope makeCurrent() {
    Scope contextScope = null;
    try {
      if (RequestScope.isCurrent(this)) {
        return Scope.noop();
      }
      contextScope = context.makeCurrent();
      return new RequestScope(this, contextScope);
    } catch (RuntimeException | LinkageError e) {
      reportFailure("making the request context current", e);
      if (contextScope != null) {
        contextScope.close();
      }
      return Scope.noop();
    }
  }

  /**
   * Returns a scope for recording the request's end on this thread: nothing when the request is
   * current already (a synchronous end inside the scope the adapter opened), else its context, for
   * the exemplar, and its MDC values only when the access log, which reads them, is written.
   */
  Scope makeCurrentToEnd(boolean withMdc) {
    if (withMdc) {
      return makeCurrent();
    }
    try {
      if (RequestScope.isCurrent(this) || Context.current() == context) {
        return Scope.noop();
      }
      return context.makeCurrent();
    } catch (RuntimeException | LinkageError e) {
      reportFailure("making the request context current", e);
      return Scope.noop();
    }
  }

  void reportFailure(String what, Throwable failure) {
    tracing.reportFailure(what, failure);
  }

  /**
   * Notes the status of the response whose headers are being sent, for {@link
   * #endConnectionClosed()} and {@link #endUnobserved()}.
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
   * Makes the adapter's end wait for {@link #transportCompleted}: the request ends when both have
   * been called, in either order. Call it before any end, and only when a transport-level observer
   * announced itself with {@link #TRANSPORT_OBSERVED_ATTRIBUTE}.
   */
  public void deferEndToTransport() {
    ARRIVING.compareAndSet(this, 0, DEFERRED);
  }

  /**
   * Reports, from a transport-level observer, how the response went out; the request ends here if
   * the adapter ended it already, else when it does. Without {@link #deferEndToTransport()} it does
   * nothing.
   *
   * @param statusSent the status of the response the server wrote, or 0 when none
   * @param failed whether writing the response failed (the client reset the connection)
   * @param inputShutdown whether the client had closed its side of the connection
   */
  public void transportCompleted(int statusSent, boolean failed, boolean inputShutdown) {
    if (arrived == 0) {
      return;
    }
    if ((arrived & TRANSPORT) != 0) {
      return;
    }
    transportStatus = statusSent;
    transportFailed = failed;
    transportInputShutdown = inputShutdown;
    arrive(TRANSPORT);
  }

  /**
   * Ends a request whose handling stopped because the client went away: reading the request body
   * met its end (a close mid-body) or writing the response failed (a reset). It is counted {@value
   * #CLIENT_CLOSED_REQUEST}; with a transport-level observer, the status the server sent instead
   * when the client was in fact still there (a malformed body that the server answered 400).
   */
  public void endAborted(@Nullable Throwable error) {
    if (arrived != 0) {
      adapterArrived(CLIENT_CLOSED_REQUEST, error, null, true);
      return;
    }
    endConnectionClosed();
  }

  private boolean adapterArrived(
      int status, @Nullable Throwable error, @Nullable String frameworkRoute, boolean aborted) {
    if ((arrived & ADAPTER) != 0) {
      // The adapter ends a request once; a second end changes nothing, as without deferral.
      return true;
    }
    adapterStatus = status;
    adapterError = error;
    adapterRoute = frameworkRoute;
    adapterAborted = aborted;
    arrive(ADAPTER);
    return true;
  }

  /** Sets the party's bit; the second party to arrive ends the request, on its own thread. */
  private void arrive(int party) {
    int before = ARRIVING.getAndAccumulate(this, party, (a, b) -> a | b);
    if ((before & party) == 0
        && ((before | party) & (ADAPTER | TRANSPORT)) == (ADAPTER | TRANSPORT)) {
      endDeferred();
    }
  }

  private void endDeferred() {
    boolean clientGone = transportFailed || (adapterAborted && transportInputShutdown);
    if (clientGone) {
      endConnectionClosed();
      return;
    }
    int sent = transportStatus;
    if (ENDING.compareAndSet(this, 0, ENDED)) {
      boolean valid = sent >= 100 && sent <= 599;
      int status = valid ? sent : adapterAborted ? CLIENT_CLOSED_REQUEST : adapterStatus;
      // An abort the client survived (a malformed body the server answered) is no error of ours.
      finish(status, STATUS_SENT, adapterAborted ? null : adapterError, adapterRoute);
    }
  }

  /**
   * Ends the request with the response status: records the metrics while the span is current, then
   * ends the span. Only the first end of a request counts; later calls do nothing. After {@link
   * #deferEndToTransport()}, the request ends once the transport reported its completion too, with
   * the status the server wrote.
   *
   * @param status the response status code
   * @param error the exception that ended the request, or null; it marks the span as an error
   * @param frameworkRoute the route template the framework matched, used when the {@link
   *     RouteResolver} knew none, or null; Spring's catch-all {@code /**} on a 404 is no route
   */
  public void end(int status, @Nullable Throwable error, @Nullable String frameworkRoute) {
    if (arrived != 0 && adapterArrived(status, error, frameworkRoute, false)) {
      if (error != null) {
        // The error line comes when the transport reports, after the container's own report of
        // the exception on this thread: that one is the duplicate to drop.
        tracing.errorLinePending(error);
      }
      return;
    }
    if (ENDING.compareAndSet(this, 0, ENDED)) {
      finish(status, STATUS_SENT, error, frameworkRoute);
    }
  }

  /**
   * Ends a request whose connection closed before its response completed. It is counted with the
   * status already sent, or {@value #CLIENT_CLOSED_REQUEST} when none was: most such closes are
   * clients giving up (a browser navigating away), which must not raise the 5xx error rate nor burn
   * the availability SLO, and 499 stays visible as a 4xx of its own. The span gets {@code
   * error.type=connection_closed} and, like any response, an error status only when the status sent
   * is a 5xx.
   */
  public void endConnectionClosed() {
    endClosed(CLIENT_CLOSED_REQUEST, CLOSED);
  }

  /**
   * Ends a request whose connection the server side closed before its response completed: the
   * application (or a handler of its pipeline) gave up on it, say after an exception it did not
   * answer. It is counted with the status already sent, or 500 when none was: the client got no
   * answer because of the server, which is a server error for the error rate and the SLOs, as a
   * container would have answered 500. The span gets {@code error.type=connection_closed_by_server}
   * and an error status.
   */
  public void endClosedByServer() {
    endClosed(500, CLOSED | SERVER_CLOSED);
  }

  /** Ends a request whose connection closed: with the status already sent, else {@code unsent}. */
  private void endClosed(int unsent, int flags) {
    if (ENDING.compareAndSet(this, 0, ENDED)) {
      int sent = responseStatus;
      finish(sent > 0 ? sent : unsent, sent > 0 ? STATUS_SENT | flags : flags, null, null);
    }
  }

  /**
   * Ends a request whose response the instrumentation can no longer see, because it left the
   * connection's pipeline while the connection stays open (after a protocol upgrade, say). It is
   * counted with the status already sent; when none was, the outcome is unknown and the request is
   * counted with status {@code _OTHER} (neither a server error nor a client close), its span
   * without a status code, with {@code error.type=response_unobserved} and no error status.
   */
  public void endUnobserved() {
    if (ENDING.compareAndSet(this, 0, ENDED)) {
      int sent = responseStatus;
      finish(sent > 0 ? sent : UNKNOWN_STATUS, sent > 0 ? STATUS_SENT : UNOBSERVED, null, null);
    }
  }

  /**
   * Whether a framework's pattern only says that nothing matched: the catch-all {@code /**} of
   * Spring's static-resource handler answering 404. Such a request is counted as {@code NOT_FOUND},
   * not under {@code /**}.
   */
  private static boolean matchedNothing(String frameworkRoute, int status) {
    return status == 404 && CATCH_ALL.equals(frameworkRoute);
  }

  /** Returns the status the ended request is counted with. */
  int status() {
    return ended >>> STATUS_SHIFT;
  }

  /** Returns whether the ended request's status reached the client. */
  boolean statusSent() {
    return (ended & STATUS_SENT) != 0;
  }

  /** Returns whether the server's side closed the connection before the ended request's answer. */
  boolean closedByServer() {
    return (ended & SERVER_CLOSED) != 0;
  }

  /** Returns whether the route became known only at the end, from the framework. */
  boolean lateRoute() {
    return (ended & LATE_ROUTE) != 0;
  }

  /** Returns the error.type of an end without an exception that is no plain response, or null. */
  @Nullable String errorType() {
    int outcome = ended;
    return (outcome & SERVER_CLOSED) != 0
        ? CONNECTION_CLOSED_BY_SERVER
        : (outcome & CLOSED) != 0
            ? CONNECTION_CLOSED
            : (outcome & UNOBSERVED) != 0 ? RESPONSE_UNOBSERVED : null;
  }

  /**
   * Records the end: the outcome goes into the fields the request has anyway (the status, the
   * flags, a late route), so that ending allocates nothing. Each step of the recording contains its
   * own failures; the catch here is the last line of defence, for an error (a {@link LinkageError}
   * from a library older than conea supports) outside them.
   */
  private void finish(
      int status, int flags, @Nullable Throwable error, @Nullable String frameworkRoute) {
    long durationNanos = System.nanoTime() - startNanos;
    int outcome = ENDED | flags;
    if (route == null && frameworkRoute != null && !matchedNothing(frameworkRoute, status)) {
      route = HttpValues.truncate(frameworkRoute, HttpValues.MAX_LENGTH);
      outcome |= LATE_ROUTE;
    }
    this.error = error;
    // Statuses are at most three digits; anything else is counted as _OTHER, as status 0 is.
    this.ended = outcome | ((status >= 0 && status <= 999 ? status : 0) << STATUS_SHIFT);
    try {
      tracing.finish(this, durationNanos);
    } catch (RuntimeException | LinkageError e) {
      reportFailure("ending the request", e);
    }
  }
}
