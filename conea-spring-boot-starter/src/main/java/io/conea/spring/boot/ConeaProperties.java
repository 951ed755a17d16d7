package io.conea.spring.boot;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.core.io.Resource;

/** The settings of conea's auto-configuration, under conea.*. */
@ConfigurationProperties(prefix = "conea")
public class ConeaProperties {

  private final Metrics metrics = new Metrics();
  private final Tracing tracing = new Tracing();
  private final Logging logging = new Logging();
  private final Ai ai = new Ai();

  public Metrics getMetrics() {
    return metrics;
  }

  public Tracing getTracing() {
    return tracing;
  }

  public Logging getLogging() {
    return logging;
  }

  public Ai getAi() {
    return ai;
  }

  /** The guide's meters and their scrape. */
  public static class Metrics {

    /** Whether to register the guide's meters (and everything that records into them). */
    private boolean enabled = true;

    /**
     * Path of the Prometheus scrape that conea serves (servlet and WebFlux applications), beside
     * Actuator's /actuator/prometheus.
     */
    private String path = "/metrics";

    /** Whether to serve the scrape at conea.metrics.path (a servlet, or a WebFlux route). */
    private boolean scrapeEnabled = true;

    /**
     * Route templates that always get an endpoint value of their own, before the cap on distinct
     * endpoints applies.
     */
    private List<String> routes = new ArrayList<>();

    /** Most distinct endpoint values; later ones are counted as _OTHER. */
    private int maxEndpoints = 100;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public String getPath() {
      return path;
    }

    public void setPath(String path) {
      this.path = path;
    }

    public boolean isScrapeEnabled() {
      return scrapeEnabled;
    }

    public void setScrapeEnabled(boolean scrapeEnabled) {
      this.scrapeEnabled = scrapeEnabled;
    }

    public List<String> getRoutes() {
      return routes;
    }

    public void setRoutes(List<String> routes) {
      this.routes = routes;
    }

    public int getMaxEndpoints() {
      return maxEndpoints;
    }

    public void setMaxEndpoints(int maxEndpoints) {
      this.maxEndpoints = maxEndpoints;
    }
  }

  /** SERVER spans and the servlet or WebFlux filter. */
  public static class Tracing {

    /** Whether to trace and count HTTP requests with conea's servlet or WebFlux filter. */
    private boolean enabled = true;

    /**
     * Whether to count, on Boot's Tomcat, Jetty or Reactor Netty, the requests the server answers
     * before the filter (those it rejects while parsing them), so that every request is counted
     * once.
     */
    private boolean countRejected = true;

    /**
     * Paths whose requests are counted but not traced; each matches itself and everything below it.
     * Default: the scrape path (conea.metrics.path) and /actuator.
     */
    private @Nullable List<String> untracedPaths;

    /**
     * OpenTelemetry SDK configuration (otel.* keys) for the SDK that conea starts when the
     * application has no OpenTelemetry bean; it wins over OTEL_* environment variables and system
     * properties. Write keys with dots in brackets: {@code
     * conea.tracing.config[otel.traces.exporter]=none}.
     */
    private Map<String, String> config = new LinkedHashMap<>();

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public boolean isCountRejected() {
      return countRejected;
    }

    public void setCountRejected(boolean countRejected) {
      this.countRejected = countRejected;
    }

    public @Nullable List<String> getUntracedPaths() {
      return untracedPaths;
    }

    public void setUntracedPaths(@Nullable List<String> untracedPaths) {
      this.untracedPaths = untracedPaths;
    }

    public Map<String, String> getConfig() {
      return config;
    }

    public void setConfig(Map<String, String> config) {
      this.config = config;
    }
  }

  /** JSON log lines. */
  public static class Logging {

    /**
     * Whether Boot's console log lines are JSON objects in the guide's schema (and the banner is
     * off). Read before logging starts, from any property source.
     */
    private boolean json = true;

    /** Whether to write one access-log line per request (logger io.conea.access). */
    private boolean accessLog = false;

    /**
     * Whether a request that ends with an unhandled exception writes one error line inside its
     * scope (trace_id, span_id, method, path, status, duration_ms, error; logger io.conea.access),
     * in place of the container's report of the same exception, which lacks them.
     */
    private boolean errorLog = true;

    public boolean isJson() {
      return json;
    }

    public void setJson(boolean json) {
      this.json = json;
    }

    public boolean isAccessLog() {
      return accessLog;
    }

    public void setAccessLog(boolean accessLog) {
      this.accessLog = accessLog;
    }

    public boolean isErrorLog() {
      return errorLog;
    }

    public void setErrorLog(boolean errorLog) {
      this.errorLog = errorLog;
    }
  }

  /** AI model calls. */
  public static class Ai {

    /** Whether to provide the AiCalls recorder and the @AiModelCall aspect. */
    private boolean enabled = true;

    /**
     * Prices (USD per 1,000 tokens, model.input=..., model.output=...) applied on top of the
     * built-in defaults, e.g. file:ai-prices.properties or {@code classpath:ai-prices.properties}.
     */
    private @Nullable Resource pricingFile;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public @Nullable Resource getPricingFile() {
      return pricingFile;
    }

    public void setPricingFile(@Nullable Resource pricingFile) {
      this.pricingFile = pricingFile;
    }
  }
}
