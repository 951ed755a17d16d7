package io.conea.tracing.tomcat;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Problems;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.TracedRequest;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.AccessLog;
import org.apache.catalina.connector.ClientAbortException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts, on Tomcat's engine, the requests that Tomcat answers without the servlet filter: those it
 * rejects while parsing (a malformed request line or header, an invalid character in the URI, an
 * over-long header block), and any other that never reached {@link
 * io.conea.tracing.servlet.ConeaTracingFilter} (no context mapped, say). Tomcat hands every request
 * it answered, rejected ones included, to the access logs of its containers; this valve is such an
 * access log and counts, with the status sent, only the requests that carry no {@link
 * TracedRequest} (endpoint {@code NOT_FOUND} for a 404, else {@code _OTHER}; see {@link
 * HttpServerTracing#recordUnstarted}). A request the filter started is never counted here.
 *
 * <p>It also tells the filter how each response went out, since Tomcat logs a request only after
 * its final flush: the filter then counts a request whose response Tomcat could not write, because
 * the client had reset the connection, as {@code 499}, even when only the final flush (after the
 * filter and the servlet returned) or the completion of an asynchronous request met the reset. Such
 * a request is the one Tomcat's own access log marks {@code X} ({@code %X}): the connection no
 * longer allows I/O, and the error Tomcat's processor noted is a client abort (a reset or broken
 * connection). A client that closes with a FIN while an asynchronous request is pending is not seen
 * (Tomcat does not read during the wait, and writing the response succeeds): it is counted with the
 * status written.
 *
 * <pre>{@code
 * tomcat.getEngine().getPipeline().addValve(ConeaTomcatValve.create(httpServerTracing));
 * // Spring Boot: TomcatServletWebServerFactory.addEngineValves(...); conea's starter does it.
 * }</pre>
 *
 * <p>Nothing here throws into Tomcat: failures are contained and logged once.
 */
public final class ConeaTomcatValve extends ValveBase implements AccessLog {

  private static final Logger LOGGER = LoggerFactory.getLogger("io.conea.tracing");
  private static final Problems PROBLEMS = new Problems();
  private static final String TRACED_REQUEST_ATTRIBUTE = TracedRequest.class.getName();

  private final HttpServerTracing tracing;

  private ConeaTomcatValve(HttpServerTracing tracing) {
    super(true);
    this.tracing = tracing;
  }

  /** Returns a valve that counts, with the given instrumentation, what the filter did not see. */
  public static ConeaTomcatValve create(HttpServerTracing tracing) {
    return new ConeaTomcatValve(requireNonNull(tracing, "tracing"));
  }

  /**
   * Announces to the filter that the end of the request is reported here, then passes the request
   * on: the counting happens when Tomcat logs it.
   */
  @Override
  public void invoke(Request request, Response response) throws IOException, ServletException {
    try {
      request.setAttribute(TracedRequest.TRANSPORT_OBSERVED_ATTRIBUTE, Boolean.TRUE);
    } catch (RuntimeException | LinkageError e) {
      report("watch", "Tomcat instrumentation could not watch a request", e);
    }
    getNext().invoke(request, response);
  }

  /**
   * Counts a request that no filter started.
   *
   * @param time the time taken, in nanoseconds since Tomcat 10.1 (0 when unknown)
   */
  @Override
  public void log(Request request, Response response, long time) {
    try {
      Object traced = request.getAttribute(TRACED_REQUEST_ATTRIBUTE);
      if (traced instanceof TracedRequest) {
        ((TracedRequest) traced)
            .transportCompleted(response.getStatus(), clientAborted(request), false);
        return;
      }
      if (traced != null) {
        return;
      }
      tracing.recordUnstarted(
          request.getMethod(), path(request), response.getStatus(), Math.max(0, time));
    } catch (RuntimeException | LinkageError e) {
      report(
          "count",
          "Tomcat instrumentation could not count a request the servlet filter did not see",
          e);
    }
  }

  /**
   * Whether writing the response failed because the client went away: what Tomcat's access log
   * marks {@code X}, the connection allowing no more I/O, with a client abort as the error that
   * Tomcat's processor noted (not an application's exception, after which Tomcat closes the
   * connection too).
   */
  private static boolean clientAborted(Request request) {
    try {
      AtomicBoolean ioAllowed = new AtomicBoolean(true);
      request.getCoyoteRequest().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
      if (ioAllowed.get()) {
        return false;
      }
      Object error = request.getCoyoteRequest().getAttribute(RequestDispatcher.ERROR_EXCEPTION);
      return error instanceof Throwable && isClientAbort((Throwable) error);
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  /**
   * Tomcat's {@link ClientAbortException}, a closed channel, or an I/O error of a reset or broken
   * connection, among the first causes.
   */
  private static boolean isClientAbort(Throwable error) {
    Throwable current = error;
    for (int i = 0; i < 8 && current != null; i++) {
      if (current instanceof ClientAbortException || current instanceof ClosedChannelException) {
        return true;
      }
      String message = current.getMessage();
      if (current instanceof IOException
          && message != null
          && (message.contains("Connection reset")
              || message.contains("Broken pipe")
              || message.contains("forcibly closed"))) {
        return true;
      }
      Throwable cause = current.getCause();
      current = cause == current ? null : cause;
    }
    return false;
  }

  private static void report(String kind, String what, Throwable failure) {
    PROBLEMS.report(
        LOGGER, kind, what + "; later failures of this kind are logged at debug level.", failure);
  }

  private static @Nullable String path(Request request) {
    try {
      return request.getRequestURI();
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }

  /** Always on: the counting does not depend on Tomcat's access-log switches. */
  @Override
  public void setRequestAttributesEnabled(boolean requestAttributesEnabled) {}

  @Override
  public boolean getRequestAttributesEnabled() {
    return false;
  }
}
