package io.conea.tracing.tomcat;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.Problems;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.TracedRequest;
import jakarta.servlet.ServletException;
import java.io.IOException;
import org.apache.catalina.AccessLog;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
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

  /** Passes the request on: the counting happens when Tomcat logs it. */
  @Override
  public void invoke(Request request, Response response) throws IOException, ServletException {
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
      if (request.getAttribute(TRACED_REQUEST_ATTRIBUTE) != null) {
        return;
      }
      tracing.recordUnstarted(
          request.getMethod(), path(request), response.getStatus(), Math.max(0, time));
    } catch (RuntimeException | LinkageError e) {
      PROBLEMS.report(
          LOGGER,
          "count",
          "Tomcat instrumentation could not count a request the servlet filter did not see; later"
              + " failures of this kind are logged at debug level.",
          e);
    }
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
