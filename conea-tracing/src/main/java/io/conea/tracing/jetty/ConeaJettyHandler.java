package io.conea.tracing.jetty;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Problems;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.TracedRequest;
import java.nio.ByteBuffer;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.RequestLog;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts, at the top of a Jetty 12 server, what the servlet filter cannot see, so that every
 * request Jetty answers is counted once with the status the client received.
 *
 * <p>Jetty answers some requests before any handler runs: a bad {@code %} escape ({@code %00},
 * {@code %2F}, {@code %80}), an ambiguous path ({@code //}, {@code ..}, {@code %2e%2e}), a missing
 * Host, Content-Length together with Transfer-Encoding, an over-long URI (414) or header block
 * (431), TLS bytes on a plain port. Only the server's {@link RequestLog} sees those, so this
 * component is two pieces: a request log that counts every request no {@link
 * io.conea.tracing.servlet.ConeaTracingFilter} started ({@link HttpServerTracing#recordUnstarted}:
 * endpoint {@code NOT_FOUND} for a 404, else {@code _OTHER}), and a handler wrapper that watches
 * how each response goes out, so that the filter counts a request whose client reset the
 * connection, or closed it mid-body, as 499, and a malformed body that Jetty answered 400 as 400. A
 * request the filter started is never counted here.
 *
 * <p>A client that closes with a FIN, not a reset, while an asynchronous request is pending is
 * counted with the status written: Jetty reads nothing from an HTTP/1.1 connection between the end
 * of a request's content and the end of its response, and writing into the closed socket succeeds
 * (see conea-tracing's README, "Every request a servlet container answers").
 *
 * <pre>{@code
 * server.setHandler(contextHandler);          // with ConeaTracingFilter mapped on /*
 * ConeaJettyHandler.install(server, httpServerTracing);
 * server.start();
 * }</pre>
 *
 * <p>It needs Jetty 12.0 or newer ({@code jetty-server} is an optional dependency of
 * conea-tracing). Nothing here throws into Jetty: failures are contained and logged once.
 */
public final class ConeaJettyHandler extends Handler.Wrapper {

  private static final Logger LOGGER = LoggerFactory.getLogger("io.conea.tracing");
  private static final Problems PROBLEMS = new Problems();

  /** The request attribute that notes a failed response write, read by the request log. */
  private static final String FAILED_ATTRIBUTE = ConeaJettyHandler.class.getName() + ".failed";

  private final HttpServerTracing tracing;
  private final CountingRequestLog requestLog = new CountingRequestLog();
  private volatile @Nullable Server installedOn;

  ConeaJettyHandler(HttpServerTracing tracing, @Nullable Handler handler) {
    super(handler);
    this.tracing = tracing;
  }

  /**
   * Returns a handler that wraps {@code handler}; it does its work only once its {@link
   * #requestLog()} is the server's request log, or part of it (see {@link #install}).
   */
  public static ConeaJettyHandler create(HttpServerTracing tracing, @Nullable Handler handler) {
    return new ConeaJettyHandler(requireNonNull(tracing, "tracing"), handler);
  }

  /**
   * Wraps the server's handler in a new {@code ConeaJettyHandler} and adds its request log to the
   * server's, keeping a request log the server had (in a {@link RequestLog.Collection}). Call it
   * after {@link Server#setHandler} and before {@link Server#start}.
   */
  public static ConeaJettyHandler install(Server server, HttpServerTracing tracing) {
    requireNonNull(server, "server");
    ConeaJettyHandler handler = create(tracing, server.getHandler());
    RequestLog existing = server.getRequestLog();
    server.setRequestLog(
        existing == null
            ? handler.requestLog
            : new RequestLog.Collection(existing, handler.requestLog));
    server.setHandler(handler);
    handler.installedOn = server;
    return handler;
  }

  /**
   * Returns the request log that counts what no filter started; set it on the server ({@link
   * Server#setRequestLog}), alone or in a {@link RequestLog.Collection}.
   */
  public RequestLog requestLog() {
    return requestLog;
  }

  /**
   * Marks the request as watched, so that the filter leaves its end to the response's completion,
   * then hands it on.
   */
  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    if (!requestLog.active) {
      return super.handle(request, response, callback);
    }
    Callback watchedCallback = callback;
    Response watchedResponse = response;
    try {
      request.setAttribute(TracedRequest.TRANSPORT_OBSERVED_ATTRIBUTE, Boolean.TRUE);
      watchedCallback = new Watched(request, callback);
      watchedResponse = new WatchedResponse(request, response);
    } catch (RuntimeException | LinkageError e) {
      report("watching a request", e);
    }
    return super.handle(request, watchedResponse, watchedCallback);
  }

  @Override
  protected void doStart() throws Exception {
    Server server = getServer();
    if (server != null && (installedOn == server || server.getRequestLog() == requestLog)) {
      requestLog.active = true;
    }
    super.doStart();
  }

  private static void report(String what, Throwable failure) {
    PROBLEMS.report(
        LOGGER,
        what,
        "Jetty instrumentation failed while "
            + what
            + "; the request is served without it. Later failures of this kind are logged at"
            + " debug level.",
        failure);
  }

  /** Notes a failed response, or write, on the request before Jetty completes (and logs) it. */
  private static final class Watched extends Callback.Nested {
    private final Request request;

    Watched(Request request, Callback callback) {
      super(callback);
      this.request = request;
    }

    @Override
    public void failed(Throwable failure) {
      try {
        request.setAttribute(FAILED_ATTRIBUTE, Boolean.TRUE);
      } catch (RuntimeException | LinkageError e) {
        report("noting a failed response", e);
      }
      super.failed(failure);
    }
  }

  /**
   * Notes a failed write, which an application may swallow (a client that reset the connection
   * while an asynchronous request was pending): Jetty then completes the request normally.
   */
  private static final class WatchedResponse extends Response.Wrapper {
    WatchedResponse(Request request, Response response) {
      super(request, response);
    }

    @Override
    public void write(boolean last, @Nullable ByteBuffer content, Callback callback) {
      super.write(last, content, new Watched(getRequest(), callback));
    }
  }

  /** Counts what no filter started; completes, for a started one, what the filter left open. */
  private final class CountingRequestLog implements RequestLog {
    /** Set once the server is known to call this log; before that the handler defers nothing. */
    volatile boolean active;

    @Override
    public void log(Request request, Response response) {
      try {
        // With a RequestLog.Collection set by hand, the log may be called while the handler was
        // not told: it counts all the same.
        active = true;
        Object traced = request.getAttribute(TracedRequest.class.getName());
        int status = response.getStatus();
        if (traced instanceof TracedRequest) {
          boolean failed = request.getAttribute(FAILED_ATTRIBUTE) != null;
          ((TracedRequest) traced).transportCompleted(status, failed, inputShutdown(request));
          return;
        }
        long duration = System.nanoTime() - request.getBeginNanoTime();
        tracing.recordUnstarted(request.getMethod(), path(request), status, duration);
      } catch (RuntimeException | LinkageError e) {
        report("counting a request", e);
      }
    }
  }

  private static @Nullable String path(Request request) {
    try {
      return request.getHttpURI().getPath();
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }

  /** Whether the client had closed its side (the server read the end of the stream). */
  private static boolean inputShutdown(Request request) {
    try {
      Connection connection = request.getConnectionMetaData().getConnection();
      EndPoint endPoint = connection == null ? null : connection.getEndPoint();
      return endPoint != null && endPoint.isInputShutdown();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }
}
