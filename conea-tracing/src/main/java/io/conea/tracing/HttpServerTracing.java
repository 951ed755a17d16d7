package io.conea.tracing;

import static io.conea.tracing.HttpValues.MAX_ID_LENGTH;
import static io.conea.tracing.HttpValues.MAX_LENGTH;
import static io.conea.tracing.HttpValues.truncate;
import static java.util.Objects.requireNonNull;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.HttpServerMetrics;
import io.conea.metrics.internal.Compatibility;
import io.conea.metrics.internal.HttpMethods;
import io.conea.metrics.internal.LoggedErrors;
import io.conea.metrics.internal.MdcKeys;
import io.conea.metrics.internal.RequestTargets;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.semconv.HttpAttributes;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Instruments HTTP server requests of any transport: one SERVER span per request, the guide's
 * {@code http_requests_total} and {@code http_request_duration_seconds} through conea-metrics, and
 * log correlation through the SLF4J MDC.
 *
 * <p>The servlet filter and the Netty handler are thin adapters over it; another transport needs
 * only a {@link HttpServerRequestAccessor} and three calls:
 *
 * <pre>{@code
 * HttpServerTracing tracing = HttpServerTracing.builder(openTelemetry, coneaMetrics)
 *     .routes(RouteTemplates.of("/api/v1/users/{id}", "/api/v1/jobs/{jobType}"))
 *     .build();
 *
 * TracedRequest traced = tracing.start(request, ACCESSOR);
 * try (Scope scope = traced.makeCurrent()) {
 *   handle(request);                     // logs carry trace_id, span_id, method, path
 *   traced.end(status, error, null);     // exactly once, from any thread
 * }
 * }</pre>
 *
 * <p>Ending a request inside its scope costs least: an end on another thread, or after the scope
 * closed, makes the request's context current again for the exemplar, and its MDC values too when
 * the access log is on.
 *
 * <p>The attributes that the semantic conventions name as relevant for sampling go on the span
 * builder, where a sampler sees them, unless the builder was told that the sampler reads none
 * ({@link Builder#samplerReadsAttributes}; conea-tracing-sdk tells it for the guide's {@code
 * parentbased_traceidratio}): then they are set only on sampled spans, and an unsampled request
 * reads and allocates none of them.
 *
 * <p>Spans follow the stable HTTP semantic conventions: the name is {@code {METHOD} {route}}
 * ({@code {METHOD}} alone when no route is known), 5xx responses and exceptions mark the span as an
 * error, 4xx responses do not. Credentials never reach telemetry: the values of signed-URL query
 * parameters ({@code AWSAccessKeyId}, {@code Signature}, {@code sig}, {@code X-Goog-Signature},
 * {@code X-Amz-*}) are replaced by {@code REDACTED}, and every value read from a request is
 * truncated to 1024 characters.
 *
 * <p>Every request, sampled or not, is counted. The route template becomes the {@code endpoint}
 * label: first from the {@link RouteResolver}, else from the framework (the servlet filter reads
 * Spring MVC's best matching pattern), else conea-metrics normalises the raw path. Metrics are
 * recorded while the span is current, so a sampled request leaves its trace id as an exemplar on
 * the duration histogram.
 *
 * <p>While a request is handled, the MDC holds {@code trace_id} and {@code span_id} (whenever the
 * span context is valid, which includes requests not sampled, so that their logs still correlate
 * with the trace id propagated downstream), {@code method}, {@code path}, and {@code user_id} and
 * {@code organization_id} when the request carries the configured headers (values cut to 128
 * characters). The previous values are restored afterwards, also after errors.
 *
 * <p>Nothing here throws into the host: failures of propagation, span creation, the meter registry
 * or the log are caught, counted ({@link #instrumentationFailures()}) and logged once per kind.
 */
public final class HttpServerTracing {

  /** MDC key of the trace id (32 hex characters). */
  public static final String MDC_TRACE_ID = MdcKeys.TRACE_ID;

  /** MDC key of the span id (16 hex characters). */
  public static final String MDC_SPAN_ID = MdcKeys.SPAN_ID;

  /** MDC key of the request method. */
  public static final String MDC_METHOD = MdcKeys.METHOD;

  /** MDC key of the request path. */
  public static final String MDC_PATH = MdcKeys.PATH;

  /** MDC key of the user id taken from the user id header. */
  public static final String MDC_USER_ID = MdcKeys.USER_ID;

  /** MDC key of the organization id taken from the organization id header. */
  public static final String MDC_ORGANIZATION_ID = MdcKeys.ORGANIZATION_ID;

  /** Name of the SLF4J logger that writes one access-log line per request when enabled. */
  public static final String ACCESS_LOGGER_NAME = "io.conea.access";

  static final String INSTRUMENTATION_NAME = "io.conea.tracing";

  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final ConeaMetrics metrics;
  private final HttpServerMetrics httpMetrics;
  private final RouteResolver routes;
  private final String userIdHeader;
  private final String organizationIdHeader;
  private final boolean accessLog;
  private final boolean errorLog;
  private final boolean samplerReadsAttributes;
  private final String[] untracedPaths;
  private final int maxPendingRequestsPerConnection;
  private final Failures failures = new Failures();
  private final SpanNames spanNames = new SpanNames();
  private final ConcurrentHashMap<HttpServerRequestAccessor<?>, PropagationGetter<?>> getters =
      new ConcurrentHashMap<>();

  HttpServerTracing(Builder builder) {
    this.tracer = builder.openTelemetry.getTracer(INSTRUMENTATION_NAME);
    this.propagator = builder.openTelemetry.getPropagators().getTextMapPropagator();
    this.metrics = builder.metrics;
    this.httpMetrics = builder.metrics.http();
    this.routes = builder.routes;
    this.userIdHeader = builder.userIdHeader;
    this.organizationIdHeader = builder.organizationIdHeader;
    this.accessLog = builder.accessLog;
    this.errorLog = builder.errorLog;
    this.samplerReadsAttributes = builder.samplerReadsAttributes;
    this.untracedPaths = builder.untracedPaths;
    this.maxPendingRequestsPerConnection = builder.maxPendingRequestsPerConnection;
  }

  /** Returns instrumentation with the default options. */
  public static HttpServerTracing create(OpenTelemetry openTelemetry, ConeaMetrics metrics) {
    return builder(openTelemetry, metrics).build();
  }

  /** Returns a builder; both arguments are required, there is no global fallback. */
  public static Builder builder(OpenTelemetry openTelemetry, ConeaMetrics metrics) {
    return new Builder(openTelemetry, metrics);
  }

  /**
   * Starts a traced request: extracts the W3C (and Jaeger) parent context from the headers, starts
   * the SERVER span and captures what the MDC and the metrics need. Never throws; the caller must
   * end the returned request exactly once (later calls are ignored).
   */
  public <R> TracedRequest start(R request, HttpServerRequestAccessor<R> accessor) {
    return start(request, accessor, true);
  }

  /**
   * Starts a request that is counted in the metrics but not traced: no span, no trace ids in the
   * MDC. Connection-oriented adapters use it past {@link #maxPendingRequestsPerConnection()}.
   */
  public <R> TracedRequest startUntraced(R request, HttpServerRequestAccessor<R> accessor) {
    return start(request, accessor, false);
  }

  /**
   * Counts a request that the server answered without any adapter having started it: one it
   * rejected before the application (a malformed request line or URI, over-long headers, a missing
   * Host), or one that reached no instrumented application. Such a request is counted with the
   * status the server sent, its method ({@code _OTHER} when not a standard one) and the endpoint
   * {@code NOT_FOUND} for a 404, else {@code _OTHER}: it matched no route, and its path, often
   * hostile, is not kept. It gets no span and no MDC values; the access log, when on, has its line.
   * Never throws.
   *
   * @param method the request method as received, or null when unknown
   * @param path the raw request path, for the access log only, or null when unknown
   * @param status the status the server sent
   * @param durationNanos the time from the request's first byte to its end, in nanoseconds
   */
  public void recordUnstarted(
      @Nullable String method, @Nullable String path, int status, long durationNanos) {
    String canonical = HttpMethods.canonical(method);
    try {
      // NOT_FOUND comes from a 404 without a route; anything else goes to the overflow value.
      httpMetrics.record(
          canonical, status == 404 ? null : ConeaMetrics.OTHER, null, status, durationNanos);
    } catch (RuntimeException | LinkageError e) {
      failures.report("recording HTTP metrics", e);
    }
    if (accessLog) {
      String loggedPath = path == null || path.isEmpty() ? "/" : truncate(path, MAX_LENGTH);
      AccessLog.write(canonical, loggedPath, status, durationNanos, failures);
    }
  }

  /** Counts an opened connection in {@code tcp_connections{state="established"}}; never throws. */
  public void connectionOpened() {
    try {
      metrics.connectionOpened();
    } catch (RuntimeException | LinkageError e) {
      failures.report("counting an opened connection", e);
    }
  }

  /** Counts a closed connection in {@code tcp_connections{state="established"}}; never throws. */
  public void connectionClosed() {
    try {
      metrics.connectionClosed();
    } catch (RuntimeException | LinkageError e) {
      failures.report("counting a closed connection", e);
    }
  }

  /**
   * Returns how many requests one connection may have in flight (pipelined) and still be traced.
   */
  public int maxPendingRequestsPerConnection() {
    return maxPendingRequestsPerConnection;
  }

  /** Returns how many instrumentation failures were caught since this instance was built. */
  public long instrumentationFailures() {
    return failures.count();
  }

  void reportFailure(String what, Throwable failure) {
    failures.report(what, failure);
  }

  /**
   * Notes, when error lines are written, that the line of a request that failed with {@code error}
   * is to come, so that a container's own report of it in the meantime is known as a duplicate.
   */
  void errorLinePending(Throwable error) {
    if (errorLog) {
      LoggedErrors.note(error);
    }
  }

  private <R> TracedRequest start(
      R request, HttpServerRequestAccessor<R> accessor, boolean traced) {
    long startNanos = System.nanoTime();
    try {
      return start(request, accessor, traced, startNanos);
    } catch (RuntimeException | LinkageError e) {
      // Each step contains its own failures; this catches what escapes them all (a LinkageError
      // from a library older than conea supports), so the request is still counted and served.
      failures.report("starting the request", e);
      return new TracedRequest(
          this,
          Context.root(),
          Span.getInvalid(),
          startNanos,
          HttpMethods.OTHER,
          "/",
          null,
          null,
          null);
    }
  }

  private <R> TracedRequest start(
      R request, HttpServerRequestAccessor<R> accessor, boolean traced, long startNanos) {
    String rawMethod = null;
    String method = HttpMethods.OTHER;
    String path = "/";
    try {
      rawMethod = accessor.method(request);
      method = HttpMethods.canonical(rawMethod);
      String rawPath = accessor.path(request);
      if (rawPath != null) {
        String withoutParameters = RequestTargets.withoutPathParameters(rawPath);
        if (!withoutParameters.isEmpty()) {
          path = truncate(withoutParameters, MAX_LENGTH);
        }
      }
    } catch (RuntimeException | LinkageError e) {
      failures.report("reading the request method and path", e);
    }
    if (traced && untracedPaths.length > 0 && isUntraced(path)) {
      traced = false;
    }
    String route = resolveRoute(method, path);
    String userId = header(request, accessor, userIdHeader);
    String organizationId = header(request, accessor, organizationIdHeader);
    Context context = Context.root();
    Span span = Span.getInvalid();
    if (traced) {
      Context parent = Context.root();
      try {
        parent = propagator.extract(parent, request, propagationGetter(accessor));
      } catch (RuntimeException | LinkageError e) {
        // A propagator that throws on a malformed header: the request gets a root span.
        failures.report("extracting the parent context", e);
      }
      context = parent;
      try {
        span = startSpan(parent, request, accessor, rawMethod, method, path, route);
        context = parent.with(span);
      } catch (RuntimeException | LinkageError e) {
        failures.report("starting the span", e);
      }
    }
    return new TracedRequest(
        this, context, span, startNanos, method, path, route, userId, organizationId);
  }

  /** Whether {@code path} is one of the untraced paths or below one. */
  private boolean isUntraced(String path) {
    for (String prefix : untracedPaths) {
      if (path.startsWith(prefix)
          && (path.length() == prefix.length() || path.charAt(prefix.length()) == '/')) {
        return true;
      }
    }
    return false;
  }

  @SuppressWarnings("unchecked") // each getter wraps the accessor it is keyed by
  private <R> PropagationGetter<R> propagationGetter(HttpServerRequestAccessor<R> accessor) {
    PropagationGetter<R> getter = (PropagationGetter<R>) getters.get(accessor);
    if (getter == null) {
      getter = new PropagationGetter<>(accessor);
      // Adapters use one constant accessor each; the cap only guards against misuse.
      if (getters.size() < 16) {
        getters.putIfAbsent(accessor, getter);
      }
    }
    return getter;
  }

  private @Nullable String resolveRoute(String method, String path) {
    try {
      return truncate(routes.resolve(method, path), MAX_LENGTH);
    } catch (RuntimeException | LinkageError e) {
      failures.report("resolving the route", e);
      return null;
    }
  }

  private <R> @Nullable String header(
      R request, HttpServerRequestAccessor<R> accessor, String name) {
    try {
      String value = accessor.get(request, name);
      // Up to four UTF-8 bytes per character: enough bytes for the bound in characters.
      return value == null || value.isEmpty()
          ? null
          : truncate(HttpValues.utf8(value, 4 * MAX_ID_LENGTH), MAX_ID_LENGTH);
    } catch (RuntimeException | LinkageError e) {
      failures.report("reading header " + name, e);
      return null;
    }
  }

  private <R> Span startSpan(
      Context parent,
      R request,
      HttpServerRequestAccessor<R> accessor,
      String rawMethod,
      String method,
      String path,
      @Nullable String route) {
    SpanBuilder builder =
        tracer
            .spanBuilder(spanNames.get(method, route))
            .setParent(parent)
            .setSpanKind(SpanKind.SERVER);
    if (samplerReadsAttributes) {
      try {
        SpanAttributes.sampling(
            SpanAttributes.BUILDER, builder, request, accessor, method, path, route);
      } catch (RuntimeException | LinkageError e) {
        // A span with fewer attributes for the sampler beats no span at all.
        failures.report("reading request attributes for the sampler", e);
      }
    }
    Span span = builder.startSpan();
    try {
      // An unsampled span reads nothing more from the request.
      if (span.isRecording()) {
        if (!samplerReadsAttributes) {
          SpanAttributes.sampling(
              SpanAttributes.SPAN, span, request, accessor, method, path, route);
        }
        SpanAttributes.recorded(span, request, accessor, rawMethod, method);
      }
    } catch (RuntimeException | LinkageError e) {
      // The span has started: it must reach the caller so that the request's end ends it.
      failures.report("reading request attributes of a started span", e);
    }
    return span;
  }

  /** Ends a request: metrics while its span is current, then the span. Called once. */
  @SuppressWarnings("try") // the scope is what makes the exemplar and the MDC visible
  void finish(TracedRequest request, long durationNanos) {
    int status = request.status();
    String route = request.route;
    Throwable error = errorLog ? request.error : null;
    try (Scope scope = request.makeCurrentToEnd(accessLog || error != null)) {
      try {
        httpMetrics.record(request.method, route, request.path, status, durationNanos);
      } catch (RuntimeException | LinkageError e) {
        failures.report("recording HTTP metrics", e);
      }
      // A failed request's error line is its one line: the access line would count it twice in
      // the guide's 5xx query.
      if (error != null) {
        AccessLog.writeError(request, status, durationNanos, error, failures);
      } else if (accessLog) {
        AccessLog.write(request, status, durationNanos, failures);
      }
    }
    Span span = request.span;
    try {
      if (span.isRecording()) {
        if (request.lateRoute()) {
          span.updateName(spanNames.get(request.method, route));
          span.setAttribute(HttpAttributes.HTTP_ROUTE, route);
        }
        SpanAttributes.outcome(span, request);
      }
      span.end();
    } catch (RuntimeException | LinkageError e) {
      failures.report("ending the span", e);
    }
  }

  /**
   * Hands headers to the propagators, withholding a malformed percent-encoded one (baggage, and
   * Jaeger's {@code uber-trace-id}, whose propagator throws on a bad escape in the OpenTelemetry
   * versions conea supports).
   */
  private static final class PropagationGetter<R> implements TextMapGetter<R> {
    private final HttpServerRequestAccessor<R> accessor;

    PropagationGetter(HttpServerRequestAccessor<R> accessor) {
      this.accessor = accessor;
    }

    // Deprecated in newer OpenTelemetry, abstract in the older ones conea supports.
    @SuppressWarnings("deprecation")
    @Override
    public Iterable<String> keys(R carrier) {
      return accessor.keys(carrier);
    }

    @Override
    public @Nullable String get(@Nullable R carrier, String key) {
      String value = accessor.get(carrier, key);
      if (value != null
          && ("baggage".equals(key) || "uber-trace-id".equals(key))
          && !HttpValues.isWellFormedEncoded(value)) {
        return null;
      }
      return value;
    }
  }

  /** Configures {@link HttpServerTracing}. */
  public static final class Builder {

    private final OpenTelemetry openTelemetry;
    private final ConeaMetrics metrics;
    private RouteResolver routes = RouteResolver.NONE;
    private String userIdHeader = "X-User-Id";
    private String organizationIdHeader = "X-Organization-Id";
    private boolean accessLog;
    private boolean errorLog;
    private int maxPendingRequestsPerConnection = 64;
    private boolean samplerReadsAttributes = true;
    private String[] untracedPaths = new String[0];

    Builder(OpenTelemetry openTelemetry, ConeaMetrics metrics) {
      this.openTelemetry = requireNonNull(openTelemetry, "openTelemetry");
      this.metrics = requireNonNull(metrics, "metrics");
    }

    /**
     * Sets how requests map to route templates, for example {@link RouteTemplates#of(String...)}
     * (default: {@link RouteResolver#NONE}).
     *
     * <p>The templates of a {@link RouteTemplates} are declared to the metrics at {@link #build()}
     * ({@link HttpServerMetrics#declareRoutes}), so that they keep their own {@code endpoint} value
     * however many other paths (scanners probing for 401, 403 and 405 responses) fill {@link
     * ConeaMetrics.Builder#maxEndpoints}. Another resolver cannot list its templates: declare them
     * with {@link ConeaMetrics.Builder#routes(String...)} or {@link
     * HttpServerMetrics#declareRoutes}, or they may be counted as {@code _OTHER} once the cap is
     * reached.
     */
    public Builder routes(RouteResolver routes) {
      this.routes = requireNonNull(routes, "routes");
      return this;
    }

    /** Sets the request header whose value goes to MDC {@code user_id} (default X-User-Id). */
    public Builder userIdHeader(String userIdHeader) {
      this.userIdHeader = requireHeaderName(userIdHeader, "userIdHeader");
      return this;
    }

    /**
     * Sets the request header whose value goes to MDC {@code organization_id} (default
     * X-Organization-Id).
     */
    public Builder organizationIdHeader(String organizationIdHeader) {
      this.organizationIdHeader = requireHeaderName(organizationIdHeader, "organizationIdHeader");
      return this;
    }

    /**
     * Writes one line per request to the SLF4J logger {@value #ACCESS_LOGGER_NAME} at info level,
     * with the key-values method, path, status and duration_ms (default false).
     */
    public Builder accessLog(boolean accessLog) {
      this.accessLog = accessLog;
      return this;
    }

    /**
     * Writes one line at error level on the logger {@value #ACCESS_LOGGER_NAME} for a request that
     * ends with an exception (one thrown through the servlet filter, say), inside the request's
     * scope: trace_id, span_id, method, path, status, duration_ms and the exception (default
     * false). With the access log on, it replaces that request's access line, so that every request
     * has one line. Containers that log the same exception again once it has left the filter
     * (Tomcat, Jetty) do so outside the request's scope; conea-spring-boot-starter drops that
     * second report.
     */
    public Builder errorLog(boolean errorLog) {
      this.errorLog = errorLog;
      return this;
    }

    /**
     * Sets how many pipelined requests one connection may have in flight and still be traced;
     * requests past it are counted but get no span (default 64). At four times this bound, the
     * Netty handler stops reading from the connection until responses catch up.
     */
    public Builder maxPendingRequestsPerConnection(int maxPendingRequestsPerConnection) {
      if (maxPendingRequestsPerConnection < 1) {
        throw new IllegalArgumentException(
            "maxPendingRequestsPerConnection must be at least 1, was "
                + maxPendingRequestsPerConnection);
      }
      this.maxPendingRequestsPerConnection = maxPendingRequestsPerConnection;
      return this;
    }

    /**
     * Sets paths whose requests are counted in the metrics but not traced: no span, no trace ids in
     * the MDC, as for a Prometheus scrape or a health check ({@code /metrics}, {@code /actuator}).
     * A path matches itself and everything below it ({@code /actuator} matches {@code
     * /actuator/health}, not {@code /actuators}). Default none; each must start with {@code /}.
     */
    public Builder untracedPaths(String... paths) {
      requireNonNull(paths, "paths");
      String[] checked = new String[paths.length];
      for (int i = 0; i < paths.length; i++) {
        String path = requireNonNull(paths[i], "untraced path");
        if (!path.startsWith("/")) {
          throw new IllegalArgumentException(
              "untraced paths must start with /, but one is " + path);
        }
        checked[i] =
            path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
      }
      this.untracedPaths = checked;
      return this;
    }

    /**
     * Tells whether the SDK's sampler may read span attributes (default true, which is right for
     * any sampler). Declare false only for a sampler that decides without them (the SDK's {@code
     * always_on}, {@code always_off}, {@code traceidratio} and their {@code parentbased_} forms,
     * the guide's default among them): then the attributes that the semantic conventions name as
     * relevant for sampling are set after the decision, on sampled spans only, and an unsampled
     * request reads and allocates none of them. {@code ConeaTracing.httpServerTracing(metrics)} of
     * conea-tracing-sdk declares it from the sampler it configured.
     */
    public Builder samplerReadsAttributes(boolean samplerReadsAttributes) {
      this.samplerReadsAttributes = samplerReadsAttributes;
      return this;
    }

    /**
     * Builds the instrumentation, declaring the templates of a {@link RouteTemplates} resolver to
     * the metrics.
     */
    public HttpServerTracing build() {
      Compatibility.require(
          HttpServerTracing.class,
          Compatibility.OPENTELEMETRY_API,
          Compatibility.OPENTELEMETRY_CONTEXT,
          Compatibility.MICROMETER,
          Compatibility.SLF4J);
      if (routes instanceof RouteTemplates) {
        metrics.http().declareRoutes(((RouteTemplates) routes).templates());
      }
      return new HttpServerTracing(this);
    }

    private static String requireHeaderName(String name, String what) {
      requireNonNull(name, what);
      if (name.isBlank() || name.chars().anyMatch(c -> c <= ' ' || c == ':' || c > '~')) {
        throw new IllegalArgumentException(what + " is not a valid header name: \"" + name + "\"");
      }
      return name;
    }
  }
}
