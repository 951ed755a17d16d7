package io.conea.benchmarks;

import java.util.concurrent.TimeUnit;

/**
 * The small fixed mix of requests that every HTTP benchmark rotates through, so that label caches
 * and meter lookups see several series, as in a real service, rather than one hot entry.
 */
final class Requests {

  /** A power of two, so that rotating is a mask. */
  static final int COUNT = 8;

  static final String[] METHODS = {"GET", "POST", "GET", "POST", "GET", "GET", "POST", "DELETE"};

  static final String[] ROUTES = {
    "/api/v1/users/{id}",
    "/api/v1/ai/chat",
    "/api/v1/health",
    "/api/v1/jobs/{jobType}",
    "/api/v1/users/{id}",
    "/api/v1/fail",
    "/api/v1/ai/chat",
    "/api/v1/users/{id}"
  };

  static final String[] PATHS = {
    "/api/v1/users/42",
    "/api/v1/ai/chat",
    "/api/v1/health",
    "/api/v1/jobs/csv-import",
    "/api/v1/users/7",
    "/api/v1/fail",
    "/api/v1/ai/chat",
    "/api/v1/users/9"
  };

  static final int[] STATUSES = {200, 200, 200, 202, 404, 500, 400, 204};

  /**
   * The status as a label value, ready made: the alternatives get it for free, in their favour,
   * where a real caller would convert the number on every request.
   */
  static final String[] STATUS_TEXTS = {"200", "200", "200", "202", "404", "500", "400", "204"};

  /** Durations spread over the guide's buckets, from 3 ms to 2.2 s. */
  static final long[] DURATION_NANOS = {
    TimeUnit.MILLISECONDS.toNanos(3),
    TimeUnit.MILLISECONDS.toNanos(245),
    TimeUnit.MICROSECONDS.toNanos(800),
    TimeUnit.MILLISECONDS.toNanos(42),
    TimeUnit.MILLISECONDS.toNanos(7),
    TimeUnit.MILLISECONDS.toNanos(2200),
    TimeUnit.MILLISECONDS.toNanos(18),
    TimeUnit.MILLISECONDS.toNanos(95)
  };

  /** The guide's {@code http_request_duration_seconds} buckets. */
  static final double[] BUCKETS_SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  /** The distinct route templates of the mix. */
  static final String[] ROUTE_TEMPLATES = {
    "/api/v1/users/{id}",
    "/api/v1/ai/chat",
    "/api/v1/health",
    "/api/v1/jobs/{jobType}",
    "/api/v1/fail"
  };

  private Requests() {}
}
