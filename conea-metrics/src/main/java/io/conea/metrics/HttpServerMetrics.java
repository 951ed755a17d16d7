package io.conea.metrics;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.internal.HttpMethods;
import io.conea.metrics.internal.Limits;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guide's HTTP server meters: {@code http_requests_total{method,endpoint,status}} and the
 * histogram {@code http_request_duration_seconds{method,endpoint}}.
 *
 * <p>Every label has a bounded set of values:
 *
 * <ul>
 *   <li>{@code method}: {@code GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH}, anything else
 *       (including lower case and null) is {@value ConeaMetrics#OTHER};
 *   <li>{@code endpoint}: the route template; without one, {@value #NOT_FOUND} for a 404, else the
 *       raw path with the query dropped and identifiers replaced by {@code {id}}; past {@code
 *       maxEndpoints} distinct values, and for null, blank or over-long ones, {@value
 *       ConeaMetrics#OTHER} (with one warning);
 *   <li>{@code status}: the number from 100 to 599, anything else is {@value ConeaMetrics#OTHER}.
 * </ul>
 *
 * <p>Every call is counted, whatever its arguments. Recording a request whose endpoint, method and
 * status were seen before allocates nothing. Obtain an instance from {@link ConeaMetrics#http()}.
 */
public final class HttpServerMetrics {

  /** The {@code endpoint} value of requests that matched no route and ended with status 404. */
  public static final String NOT_FOUND = "NOT_FOUND";

  static final String REQUESTS = "http.requests";
  static final String DURATION = "http.request.duration";

  private static final Logger logger = LoggerFactory.getLogger(HttpServerMetrics.class);

  private static final int MIN_STATUS = 100;
  private static final int MAX_STATUS = 599;
  private static final int STATUS_OTHER = MAX_STATUS - MIN_STATUS + 1;
  private static final String[] STATUSES = new String[STATUS_OTHER + 1];

  static {
    for (int i = 0; i < STATUS_OTHER; i++) {
      STATUSES[i] = Integer.toString(MIN_STATUS + i);
    }
    STATUSES[STATUS_OTHER] = ConeaMetrics.OTHER;
  }

  private final Registrations registrations;
  private final DurationHistogram durations;
  private final LabelCache<Endpoint> endpoints;
  private final Endpoint notFound;

  HttpServerMetrics(
      Registrations registrations,
      Duration[] buckets,
      boolean nativeHistograms,
      int maxEndpoints,
      List<String> routes) {
    this.registrations = registrations;
    this.durations =
        new DurationHistogram(
            registrations,
            DURATION,
            "http_request_duration_seconds",
            "HTTP request latency",
            new String[] {ConeaMetrics.METHOD, ConeaMetrics.ENDPOINT},
            buckets,
            nativeHistograms);
    this.notFound = new Endpoint(NOT_FOUND);
    this.endpoints =
        new LabelCache<>("endpoint", maxEndpoints, Endpoint::new, registrations.problems());
    endpoints.reserve(NOT_FOUND, notFound);
    for (String route : routes) {
      endpoints.reserve(route, new Endpoint(route));
    }
  }

  /**
   * Declares route templates after start-up, for instrumentation that learns them from the
   * application (conea-tracing's route templates do): like {@link ConeaMetrics.Builder#routes},
   * each keeps its own {@code endpoint} value and never counts against the cap, so unmatched
   * traffic can never crowd it out. Declaring a template twice is harmless.
   *
   * @throws IllegalArgumentException if a template is blank or longer than 256 characters
   */
  public void declareRoutes(Collection<String> routeTemplates) {
    requireNonNull(routeTemplates, "routeTemplates");
    for (String route : routeTemplates) {
      checkRoute(route);
    }
    for (String route : routeTemplates) {
      endpoints.reserve(route, new Endpoint(route));
    }
  }

  /** Validates one route template at configuration time. */
  static String checkRoute(String route) {
    requireNonNull(route, "route template");
    if (route.isBlank()) {
      throw new IllegalArgumentException("route templates must not be blank");
    }
    if (route.length() > Limits.MAX_LABEL_VALUE_LENGTH) {
      throw new IllegalArgumentException(
          "route templates must be at most "
              + Limits.MAX_LABEL_VALUE_LENGTH
              + " characters, but one has "
              + route.length());
    }
    return route;
  }

  /**
   * Records one finished request. Never throws.
   *
   * @param method the request method as sent, e.g. {@code GET}
   * @param route the route template that matched, e.g. {@code /api/v1/users/{id}}, or null (or
   *     blank) if no route is known
   * @param path the raw request path, used (normalised) only when {@code route} is null
   * @param status the response status code
   * @param durationNanos the time from request start to response end, in nanoseconds
   */
  public void record(
      @Nullable String method,
      @Nullable String route,
      @Nullable String path,
      int status,
      long durationNanos) {
    try {
      if (durationNanos < 0) {
        if (registrations.problems().firstTime("http.negative-duration")) {
          logger.warn(
              "A negative HTTP request duration ({} ns) was recorded as 0; later ones are"
                  + " recorded the same way without another warning",
              durationNanos);
        }
        durationNanos = 0;
      }
      endpoint(route, path, status).series(HttpMethods.index(method)).record(status, durationNanos);
    } catch (RuntimeException | LinkageError e) {
      registrations.recordingFailed("an HTTP request", e);
    }
  }

  private Endpoint endpoint(@Nullable String route, @Nullable String path, int status) {
    if (route != null && !route.isBlank()) {
      return endpoints.get(route);
    }
    if (status == 404) {
      return notFound;
    }
    if (path == null || path.isEmpty()) {
      return endpoints.get(null);
    }
    return endpoints.get(Paths.isNormal(path) ? path : Paths.normalize(path));
  }

  private static int statusIndex(int status) {
    return status >= MIN_STATUS && status <= MAX_STATUS ? status - MIN_STATUS : STATUS_OTHER;
  }

  /** The meters of one endpoint value, per method, registered on first use. */
  private final class Endpoint {

    private final String name;
    private final AtomicReferenceArray<Series> byMethod =
        new AtomicReferenceArray<>(HttpMethods.COUNT);

    Endpoint(String name) {
      this.name = name;
    }

    Series series(int method) {
      Series series = byMethod.get(method);
      return series != null ? series : register(method);
    }

    private synchronized Series register(int method) {
      Series series = byMethod.get(method);
      if (series == null) {
        series = new Series(name, HttpMethods.label(method));
        byMethod.set(method, series);
      }
      return series;
    }
  }

  /**
   * The meters of one (endpoint, method): the duration histogram and one counter per status seen.
   * The counters sit in a small copy-on-write table, scanned without locking or allocating; the
   * histogram's series is resolved with the first counter, which tells {@link DurationHistogram}
   * whether the registry's filters leave conea's meters as registered.
   */
  private final class Series {

    private final String endpoint;
    private final String method;
    private volatile DurationHistogram.@Nullable Recorder duration;
    private volatile StatusTable statuses = StatusTable.EMPTY;

    Series(String endpoint, String method) {
      this.endpoint = endpoint;
      this.method = method;
    }

    void record(int status, long durationNanos) {
      Counter counter = counter(statusIndex(status));
      counter.increment();
      DurationHistogram.Recorder recorder = duration;
      if (recorder == null) {
        recorder = duration(counter, status);
      }
      recorder.record(durationNanos);
    }

    private synchronized DurationHistogram.Recorder duration(Counter probe, int status) {
      DurationHistogram.Recorder recorder = duration;
      if (recorder == null) {
        recorder =
            durations.series(
                probe, REQUESTS, tags(STATUSES[statusIndex(status)]), method, endpoint);
        duration = recorder;
      }
      return recorder;
    }

    private Tags tags(String status) {
      return Tags.of(
          ConeaMetrics.METHOD,
          method,
          ConeaMetrics.ENDPOINT,
          endpoint,
          ConeaMetrics.STATUS,
          status);
    }

    private Counter counter(int status) {
      StatusTable table = statuses;
      int[] known = table.statuses;
      for (int i = 0; i < known.length; i++) {
        if (known[i] == status) {
          return table.counters[i];
        }
      }
      return register(status);
    }

    private synchronized Counter register(int status) {
      StatusTable table = statuses;
      for (int i = 0; i < table.statuses.length; i++) {
        if (table.statuses[i] == status) {
          return table.counters[i];
        }
      }
      Counter counter =
          registrations.counter(
              REQUESTS, "Total number of HTTP requests", null, tags(STATUSES[status]));
      statuses = table.with(status, counter);
      return counter;
    }
  }

  private static final class StatusTable {

    static final StatusTable EMPTY = new StatusTable(new int[0], new Counter[0]);

    final int[] statuses;
    final Counter[] counters;

    StatusTable(int[] statuses, Counter[] counters) {
      this.statuses = statuses;
      this.counters = counters;
    }

    StatusTable with(int status, Counter counter) {
      int n = statuses.length;
      int[] newStatuses = Arrays.copyOf(statuses, n + 1);
      Counter[] newCounters = Arrays.copyOf(counters, n + 1);
      newStatuses[n] = status;
      newCounters[n] = counter;
      return new StatusTable(newStatuses, newCounters);
    }
  }
}
