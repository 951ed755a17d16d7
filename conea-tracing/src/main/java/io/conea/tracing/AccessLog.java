package io.conea.tracing;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optional access log: one line per request on {@value HttpServerTracing#ACCESS_LOGGER_NAME}.
 */
final class AccessLog {

  private static final Logger logger =
      LoggerFactory.getLogger(HttpServerTracing.ACCESS_LOGGER_NAME);

  private AccessLog() {}

  /** Writes the request's line at info level, with method, path, status and duration_ms. */
  static void write(TracedRequest request, int status, long durationNanos, Failures failures) {
    write(request.method, request.path, status, durationNanos, failures);
  }

  /** Writes one request's line at info level, with method, path, status and duration_ms. */
  static void write(String method, String path, int status, long durationNanos, Failures failures) {
    try {
      if (logger.isInfoEnabled()) {
        long durationMs = TimeUnit.NANOSECONDS.toMillis(durationNanos);
        logger
            .atInfo()
            .addKeyValue("method", method)
            .addKeyValue("path", path)
            .addKeyValue("status", status)
            .addKeyValue("duration_ms", durationMs)
            .log("{} {} {} {}ms", method, path, status, durationMs);
      }
    } catch (RuntimeException | LinkageError e) {
      failures.report("writing the access log", e);
    }
  }
}
