package io.conea.metrics;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpHandler;
import io.conea.metrics.internal.Compatibility;
import io.conea.metrics.internal.Problems;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.config.PrometheusPropertiesLoader;
import io.prometheus.metrics.exporter.common.PrometheusHttpExchange;
import io.prometheus.metrics.exporter.common.PrometheusHttpRequest;
import io.prometheus.metrics.exporter.common.PrometheusHttpResponse;
import io.prometheus.metrics.exporter.common.PrometheusScrapeHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.tracer.common.SpanContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Collections;
import java.util.Enumeration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns a {@link PrometheusMeterRegistry} and serves its scrape, over any transport.
 *
 * <p>{@link #scrape(String, String)} is the transport-neutral core: it negotiates the format from
 * the {@code Accept} header (Prometheus text 0.0.4 by default; OpenMetrics 1.0, the only text
 * format that carries exemplars, when asked for; Prometheus protobuf when asked for) and gzips the
 * body when {@code Accept-Encoding} allows it. The formats are written by the Prometheus client's
 * own exposition library. {@link #httpHandler()} and {@link
 * io.conea.metrics.servlet.MetricsServlet} are thin adapters over it; the servlet is a class of its
 * own so that this class never refers to the Servlet API, which services without a servlet
 * container (Netty) do not have.
 *
 * <pre>{@code
 * PrometheusMetrics prometheus = PrometheusMetrics.create();
 * ConeaMetrics metrics = ConeaMetrics.create(prometheus.registry());
 * // Jetty, Tomcat, ...:  context.addServlet(
 * //                         new ServletHolder(MetricsServlet.create(prometheus)), "/metrics");
 * // JDK HttpServer:     server.createContext("/metrics", prometheus.httpHandler());
 * // Netty or others:    Scrape scrape = prometheus.scrape(accept, acceptEncoding);
 * }</pre>
 *
 * <p>Exposition settings (exemplar sampling intervals, name filters) are the Prometheus client's
 * usual {@code io.prometheus.*} properties, on top of Micrometer's defaults.
 */
public final class PrometheusMetrics implements AutoCloseable {

  private static final Logger logger = LoggerFactory.getLogger(PrometheusMetrics.class);

  /**
   * Micrometer's defaults, except that exemplars go only on counters and histogram buckets, as the
   * OpenMetrics 1.0 format allows. Micrometer also puts them on histogram {@code _count} lines, and
   * Prometheus before 2.43 (Debian 12's among them) then rejects the whole scrape.
   */
  private static final PrometheusConfig EXEMPLARS_WHERE_PROMETHEUS_READS_THEM =
      new PrometheusConfig() {
        @Override
        public @Nullable String get(String key) {
          return null;
        }

        @Override
        public java.util.Properties prometheusProperties() {
          java.util.Properties properties = PrometheusConfig.super.prometheusProperties();
          properties.setProperty("io.prometheus.exporter.exemplarsOnAllMetricTypes", "false");
          return properties;
        }
      };

  private final PrometheusMeterRegistry registry;
  private final PrometheusScrapeHandler handler;
  private final @Nullable JvmMeters jvmMeters;
  private final boolean owned;
  private final Problems problems = new Problems();

  PrometheusMetrics(@Nullable SpanContext exemplars, boolean jvmMetrics) {
    Compatibility.require(
        PrometheusMetrics.class, Compatibility.MICROMETER, Compatibility.PROMETHEUS_METRICS);
    PrometheusConfig config = EXEMPLARS_WHERE_PROMETHEUS_READS_THEM;
    PrometheusRegistry prometheusRegistry = new PrometheusRegistry();
    this.registry =
        new PrometheusMeterRegistry(config, prometheusRegistry, Clock.SYSTEM, exemplars);
    // This registry is conea's own: its filters go on before its first meter.
    JvmMeters.configurePromtoolNames(registry);
    this.jvmMeters = jvmMetrics ? JvmMeters.bindMissing(registry) : null;
    // The same properties Micrometer uses, so both agree on exemplars for every metric type.
    this.handler =
        new PrometheusScrapeHandler(
            PrometheusPropertiesLoader.load(config.prometheusProperties()), prometheusRegistry);
    this.owned = true;
  }

  private PrometheusMetrics(PrometheusMeterRegistry registry) {
    Compatibility.require(
        PrometheusMetrics.class, Compatibility.MICROMETER, Compatibility.PROMETHEUS_METRICS);
    this.registry = registry;
    this.jvmMeters = null;
    this.handler =
        new PrometheusScrapeHandler(
            PrometheusPropertiesLoader.load(), registry.getPrometheusRegistry());
    this.owned = false;
  }

  /**
   * Returns the scrape of a {@link PrometheusMeterRegistry} that someone else created and
   * configured (Spring Boot's, say), so that conea can serve it on its own path: the registry is
   * left as found (no filter, no meter bound) and {@link #close()} leaves it open.
   */
  public static PrometheusMetrics of(PrometheusMeterRegistry registry) {
    return new PrometheusMetrics(requireNonNull(registry, "registry"));
  }

  /** Returns a new registry and scrape with no exemplars, and the JVM and process meters. */
  public static PrometheusMetrics create() {
    return builder().build();
  }

  /**
   * Returns a new registry and scrape whose counters and histograms sample exemplars (trace and
   * span ids) from {@code exemplars}, e.g. the current OpenTelemetry span, with the JVM and process
   * meters. Exemplars appear only in the OpenMetrics format.
   */
  public static PrometheusMetrics create(SpanContext exemplars) {
    return builder().exemplars(exemplars).build();
  }

  /** Returns a builder: no exemplars and the JVM and process meters unless told otherwise. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the registry to register meters on, e.g. with {@link ConeaMetrics#create}. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /**
   * Scrapes all meters. Never throws: a failure gives status 500 and is logged once.
   *
   * @param acceptHeader the request's {@code Accept} header (several joined with commas), or null
   * @param acceptEncodingHeader the request's {@code Accept-Encoding} header, or null
   */
  public Scrape scrape(@Nullable String acceptHeader, @Nullable String acceptEncodingHeader) {
    return scrape(acceptHeader, acceptEncodingHeader, null);
  }

  /**
   * Scrapes the meters selected by {@code queryString}: {@code name[]=...} keeps only the named
   * metrics, {@code debug=openmetrics|text|prometheus-protobuf} returns that format as plain text.
   * Never throws: invalid parameters give status 400, a failure gives 500 and is logged once.
   *
   * @param acceptHeader the request's {@code Accept} header (several joined with commas), or null
   * @param acceptEncodingHeader the request's {@code Accept-Encoding} header, or null
   * @param queryString the raw (URL-encoded) query string without {@code ?}, or null
   */
  public Scrape scrape(
      @Nullable String acceptHeader,
      @Nullable String acceptEncodingHeader,
      @Nullable String queryString) {
    if (queryString != null && !isDecodable(queryString)) {
      return Scrape.error(400, "The query string is not validly URL-encoded.\n");
    }
    Exchange exchange = new Exchange(acceptHeader, acceptEncodingHeader, queryString);
    try {
      handler.handleRequest(exchange);
    } catch (IOException | RuntimeException e) {
      exchange.fail(e);
    }
    return exchange.result();
  }

  private static boolean isDecodable(String queryString) {
    try {
      java.net.URLDecoder.decode(queryString, java.nio.charset.StandardCharsets.UTF_8);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Returns a handler for the JDK's {@code com.sun.net.httpserver.HttpServer}. */
  public HttpHandler httpHandler() {
    return ScrapeHttpHandler.create(this);
  }

  /**
   * Stops the garbage collection listener and closes the registry, if this created it; a registry
   * given to {@link #of} stays open.
   */
  @Override
  public void close() {
    if (jvmMeters != null) {
      jvmMeters.close();
    }
    if (owned) {
      registry.close();
    }
  }

  private void failed(Exception e) {
    if (problems.firstTime("scrape")) {
      logger.warn("A metrics scrape failed; later failures answer 500 without this log", e);
    }
  }

  /** One in-memory request and response for the Prometheus client's scrape handler. */
  private final class Exchange
      implements PrometheusHttpExchange, PrometheusHttpRequest, PrometheusHttpResponse {

    private final @Nullable String accept;
    private final @Nullable String acceptEncoding;
    private final @Nullable String queryString;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private int status;
    private @Nullable String contentType;
    private @Nullable String contentEncoding;
    private boolean failed;

    Exchange(
        @Nullable String accept, @Nullable String acceptEncoding, @Nullable String queryString) {
      this.accept = accept;
      this.acceptEncoding = acceptEncoding;
      this.queryString = queryString;
    }

    @Override
    public PrometheusHttpRequest getRequest() {
      return this;
    }

    @Override
    public PrometheusHttpResponse getResponse() {
      return this;
    }

    @Override
    public @Nullable String getQueryString() {
      return queryString;
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
      String value = null;
      if ("Accept".equalsIgnoreCase(name)) {
        value = accept;
      } else if ("Accept-Encoding".equalsIgnoreCase(name)) {
        value = acceptEncoding;
      }
      return value == null
          ? Collections.emptyEnumeration()
          : Collections.enumeration(Collections.singletonList(value));
    }

    @Override
    public String getMethod() {
      return "GET";
    }

    @Override
    public String getRequestPath() {
      return "/metrics";
    }

    @Override
    public void setHeader(String name, String value) {
      if ("Content-Type".equalsIgnoreCase(name)) {
        contentType = value;
      } else if ("Content-Encoding".equalsIgnoreCase(name)) {
        contentEncoding = value;
      }
    }

    @Override
    public OutputStream sendHeadersAndGetBody(int statusCode, int contentLength) {
      status = statusCode;
      return body;
    }

    @Override
    public void handleException(IOException e) {
      fail(e);
    }

    @Override
    public void handleException(RuntimeException e) {
      fail(e);
    }

    @Override
    public void close() {}

    void fail(Exception e) {
      failed = true;
      failed(e);
    }

    Scrape result() {
      if (failed || status == 0 || contentType == null) {
        return Scrape.error(500, "The metrics scrape failed; the service log has the cause.\n");
      }
      return new Scrape(status, contentType, contentEncoding, body.toByteArray());
    }
  }

  /** Configures {@link PrometheusMetrics}. */
  public static final class Builder {

    private @Nullable SpanContext exemplars;
    private boolean jvmMetrics = true;

    Builder() {}

    /**
     * Samples exemplars (trace and span ids) for counters and histograms from {@code exemplars},
     * e.g. {@code OpenTelemetryExemplars.create()} of conea-tracing. Default none.
     */
    public Builder exemplars(SpanContext exemplars) {
      this.exemplars = requireNonNull(exemplars, "exemplars");
      return this;
    }

    /**
     * Sets whether Micrometer's JVM and process meters are bound (memory, garbage collection,
     * threads, class loading, CPU, uptime, file descriptors). Default true. So that the scrape
     * passes {@code promtool check metrics}, Micrometer's {@code system.cpu.count} is exposed as
     * {@code system_cpu_logical_processors} and {@code process.cpu.time} (nanoseconds, named {@code
     * process_cpu_time_ns_total}) is left out; {@code process_cpu_usage} remains. These renames
     * apply to this registry only.
     */
    public Builder jvmMetrics(boolean jvmMetrics) {
      this.jvmMetrics = jvmMetrics;
      return this;
    }

    /** Creates the registry, binds the JVM meters if asked, and returns it with its scrape. */
    public PrometheusMetrics build() {
      return new PrometheusMetrics(exemplars, jvmMetrics);
    }
  }
}
