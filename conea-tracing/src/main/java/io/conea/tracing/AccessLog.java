package io.conea.tracing;

import io.conea.metrics.internal.LoggedErrors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The request lines on {@value HttpServerTracing#ACCESS_LOGGER_NAME}: the optional access log, one
 * line per request, and the error line of a request that ended with an exception.
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
        line(logger.atInfo(), method, path, status, durationMs)
            .log("{} {} {} {}ms", method, path, status, durationMs);
      }
    } catch (RuntimeException | LinkageError e) {
      failures.report("writing the access log", e);
    }
  }

  /**
   * Writes the line of a request that ended with an exception, at error level, with method, path,
   * status, duration_ms and the exception, and notes the exception as logged on this thread (see
   * {@link LoggedErrors}).
   */
  static void writeError(
      TracedRequest request, int status, long durationNanos, Throwable error, Failures failures) {
    try {
      if (logger.isErrorEnabled()) {
        long durationMs = TimeUnit.NANOSECONDS.toMillis(durationNanos);
        line(logger.atError(), request.method, request.path, status, durationMs)
            .setCause(error)
            .log(
                "{} {} {} {}ms: unhandled {}",
                request.method,
                request.path,
                status,
                durationMs,
                error.getClass().getName());
        LoggedErrors.note(error);
      }
    } catch (RuntimeException | LinkageError e) {
      failures.report("writing the error line", e);
    }
  }

  /** The key-values every request line carries. */
  private static LoggingEventBuilder line(
      LoggingEventBuilder builder, String method, String path, int status, long durationMs) {
    return builder
        .addKeyValue("method", method)
        .addKeyValue("path", path)
        .addKeyValue("status", status)
        .addKeyValue("duration_ms", durationMs);
  }
}
