package io.conea.tracing.sdk;

import static java.util.Objects.requireNonNull;

import io.conea.metrics.ConeaMetrics;
import io.conea.metrics.internal.Compatibility;
import io.conea.tracing.HttpServerTracing;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.semconv.ServiceAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenTelemetry SDK of a service, configured with the monitoring guide's defaults.
 *
 * <p>Defaults, each overridden by the standard {@code OTEL_*} environment variable or {@code
 * otel.*} system property of the same name:
 *
 * <table>
 *   <caption>Defaults</caption>
 *   <tr><th>property</th><th>default</th></tr>
 *   <tr><td>otel.service.name</td><td>the name given to {@link #builder(String)}, used only when
 *       neither {@code otel.service.name} nor {@code service.name} in {@code
 *       otel.resource.attributes} is set (the former wins over the latter, as in the SDK)</td></tr>
 *   <tr><td>otel.traces.sampler</td><td>parentbased_traceidratio</td></tr>
 *   <tr><td>otel.traces.sampler.arg</td><td>0.1</td></tr>
 *   <tr><td>otel.traces.exporter</td><td>otlp ({@code otlp,logging} with {@link
 *       Builder#logSpans(boolean)}); {@code logging} or {@code none} also work</td></tr>
 *   <tr><td>otel.exporter.otlp.protocol</td><td>http/protobuf</td></tr>
 *   <tr><td>otel.exporter.otlp.endpoint</td><td>http://localhost:4318</td></tr>
 *   <tr><td>otel.propagators</td><td>tracecontext,baggage,jaeger</td></tr>
 *   <tr><td>otel.bsp.max.queue.size</td><td>2048 (spans past it are dropped and counted by the
 *       SDK, never blocking a request)</td></tr>
 *   <tr><td>otel.attribute.value.length.limit</td><td>1024</td></tr>
 *   <tr><td>otel.metrics.exporter, otel.logs.exporter</td><td>none (metrics go to Prometheus
 *       through conea-metrics)</td></tr>
 * </table>
 *
 * <p>The {@code jaeger} propagator accepts the {@code uber-trace-id} header of services still on
 * jaeger-client; Jaeger itself ingests OTLP on port 4318.
 *
 * <pre>{@code
 * ConeaTracing tracing = ConeaTracing.builder("conea-api").build();
 * OpenTelemetry openTelemetry = tracing.openTelemetry();
 * // ... serve requests ...
 * tracing.close(); // flushes spans, returns within the shutdown timeout
 * }</pre>
 *
 * <p>A service that already has an {@link OpenTelemetry} uses {@link #create(OpenTelemetry)}
 * instead; {@link #close()} then leaves it alone.
 *
 * <p>Export problems of the SDK it builds are visible where the service looks:
 *
 * <ul>
 *   <li>The SDK's own diagnostics, which it writes to java.util.logging (a failed export, a full
 *       queue), go to SLF4J under their logger names ({@code
 *       io.opentelemetry.exporter.otlp.internal.HttpExporter}, ...), one event each with the
 *       exception as its cause, naming the exporter and endpoint (also as the key-value pairs
 *       {@code exporter} and {@code endpoint}), at most 10 lines per logger per minute, the number
 *       left out given in the next line. Only the {@code io.opentelemetry} JUL logger is changed,
 *       and only until {@link #close()}; {@link Builder#sdkDiagnosticsToSlf4j(boolean)} turns this
 *       off.
 *   <li>{@code conea_spans_dropped_total{reason="queue_full"|"export_failed"|"shutdown"}} counts
 *       the sampled spans lost, each once, once the instance is bound to a registry ({@link
 *       #bindTo(MeterRegistry)}, done by {@link #httpServerTracing(ConeaMetrics)}); it stays
 *       readable after {@link #close()}.
 *   <li>A {@link #close()} whose flush does not finish within the shutdown timeout, or that leaves
 *       spans unexported, logs one warning naming the exporter, endpoint, timeout and the number of
 *       spans lost.
 * </ul>
 *
 * <p>This artifact ({@code conea-tracing-sdk}) is the only conea module that depends on the
 * OpenTelemetry SDK: a host with an SDK of its own (Spring Boot's, the Java agent's) uses
 * conea-tracing without it.
 */
public final class ConeaTracing implements AutoCloseable, MeterBinder {

  private static final Logger logger = LoggerFactory.getLogger(ConeaTracing.class);

  /** The service name the SDK uses when nothing configures one ({@code unknown_service:java}). */
  private static final String UNKNOWN_SERVICE_NAME =
      Resource.getDefault().getAttribute(ServiceAttributes.SERVICE_NAME);

  /** The SDK's samplers that decide without reading span attributes, by configuration name. */
  private static final Set<String> ATTRIBUTE_FREE_SAMPLERS =
      Set.of(
          "always_on",
          "always_off",
          "traceidratio",
          "parentbased_always_on",
          "parentbased_always_off",
          "parentbased_traceidratio");

  private final OpenTelemetry openTelemetry;
  private final @Nullable OpenTelemetrySdk ownedSdk;
  private final Duration shutdownTimeout;
  private final boolean samplerReadsAttributes;
  private final @Nullable SpanExportStats stats;
  private final SdkDiagnostics.@Nullable Registration diagnostics;
  private final AtomicBoolean closed = new AtomicBoolean();

  ConeaTracing(
      OpenTelemetry openTelemetry,
      @Nullable OpenTelemetrySdk ownedSdk,
      Duration shutdownTimeout,
      boolean samplerReadsAttributes,
      @Nullable SpanExportStats stats,
      SdkDiagnostics.@Nullable Registration diagnostics) {
    this.openTelemetry = openTelemetry;
    this.ownedSdk = ownedSdk;
    this.shutdownTimeout = shutdownTimeout;
    this.samplerReadsAttributes = samplerReadsAttributes;
    this.stats = stats;
    this.diagnostics = diagnostics;
  }

  /**
   * Wraps an {@link OpenTelemetry} the service configured itself; {@link #close()} does not shut it
   * down.
   */
  public static ConeaTracing create(OpenTelemetry openTelemetry) {
    requireNonNull(openTelemetry, "openTelemetry");
    Compatibility.require(
        ConeaTracing.class, Compatibility.OPENTELEMETRY_API, Compatibility.OPENTELEMETRY_CONTEXT);
    return new ConeaTracing(openTelemetry, null, Duration.ZERO, true, null, null);
  }

  /**
   * Returns a builder for an SDK whose service name defaults to {@code defaultServiceName} ({@code
   * OTEL_SERVICE_NAME} and {@code service.name} in {@code OTEL_RESOURCE_ATTRIBUTES} win over it).
   */
  public static Builder builder(String defaultServiceName) {
    return new Builder(defaultServiceName);
  }

  /** Returns the counts of lost spans, for tests; null for {@link #create(OpenTelemetry)}. */
  @Nullable SpanExportStats exportStats() {
    return stats;
  }

  /** Returns the OpenTelemetry instance to hand to {@link HttpServerTracing} and to other code. */
  public OpenTelemetry openTelemetry() {
    return openTelemetry;
  }

  /**
   * Returns whether the configured sampler may read span attributes: false for the SDK's built-in
   * samplers ({@code otel.traces.sampler} {@code always_on}, {@code always_off}, {@code
   * traceidratio} and their {@code parentbased_} forms, the guide's default among them), true for
   * any other and for an {@link OpenTelemetry} given to {@link #create(OpenTelemetry)}.
   */
  public boolean samplerReadsAttributes() {
    return samplerReadsAttributes;
  }

  /**
   * Returns a builder of HTTP server instrumentation on this SDK and {@code metrics}, told whether
   * the sampler reads span attributes, so that unsampled requests under a built-in sampler read
   * none of them.
   */
  public HttpServerTracing.Builder httpServerTracing(ConeaMetrics metrics) {
    bindTo(metrics.registry());
    return HttpServerTracing.builder(openTelemetry, metrics)
        .samplerReadsAttributes(samplerReadsAttributes);
  }

  /**
   * Registers {@code conea_spans_dropped_total{reason}} on {@code registry}: the sampled spans of
   * the SDK this instance built that the batch processor dropped because its queue was full ({@code
   * queue_full}), that were in an export that failed or timed out ({@code export_failed}), or that
   * no exporter had taken when {@link #close()} returned ({@code shutdown}: still queued, in an
   * export that had not finished, or ended after close; an export that succeeds after that is not
   * taken back). With one exporter the three add up to the sampled spans not exported; with more,
   * {@code export_failed} and {@code shutdown} count per exporter. Does nothing for an instance
   * passed to {@link #create(OpenTelemetry)}; binding again to the same registry is harmless.
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    requireNonNull(registry, "registry");
    if (stats == null) {
      return;
    }
    try {
      stats.bindTo(registry);
    } catch (RuntimeException | LinkageError e) {
      logger.warn("conea_spans_dropped_total could not be registered", e);
    }
  }

  /**
   * Flushes and shuts the SDK down, returning within the shutdown timeout even when the collector
   * does not answer; the sampled spans not exported by then are counted as {@code
   * conea_spans_dropped_total{reason="shutdown"}} and named in one warning. Does nothing for an
   * instance passed to {@link #create(OpenTelemetry)}, or when called again.
   */
  @Override
  public void close() {
    if (ownedSdk == null || !closed.compareAndSet(false, true)) {
      return;
    }
    SpanExportStats stats = requireNonNull(this.stats);
    try {
      CompletableResultCode result = ownedSdk.shutdown();
      result.join(shutdownTimeout.toNanos(), TimeUnit.NANOSECONDS);
      // What the exporters have not taken by now is lost: the batch processor's shutdown can
      // report an earlier flush's result, and the wait may have run out.
      long lost = stats.freeze();
      if (!result.isDone() || lost > 0) {
        reportLostSpans(stats, result.isDone(), lost);
      }
    } catch (RuntimeException | LinkageError e) {
      long lost = -1;
      try {
        lost = stats.freeze(); // still counted once, whatever failed
      } catch (RuntimeException | LinkageError ignored) {
        // The shutdown's own failure below is the one to report.
      }
      logger
          .atWarn()
          .setCause(e)
          .addKeyValue("lost_spans", lost)
          .log(
              "OpenTelemetry SDK shutdown failed; {} sampled span(s) not exported are lost, counted"
                  + " in conea_spans_dropped_total{reason=\"shutdown\"}",
              lost < 0 ? "an unknown number of" : Long.toString(lost));
    } finally {
      // The JUL logger is the service's again, even if an export is still running: its late
      // diagnostics could not be told apart from those of another SDK.
      if (diagnostics != null) {
        diagnostics.close();
      }
    }
  }

  private void reportLostSpans(SpanExportStats stats, boolean finished, long lost) {
    List<SdkDiagnostics.ExportTarget> targets = stats.targets();
    String named =
        targets.isEmpty()
            ? "the configured exporter"
            : targets.stream().map(Object::toString).collect(Collectors.joining("; "));
    String what =
        finished
            ? "OpenTelemetry SDK shutdown finished without exporting every span"
            : "OpenTelemetry SDK shutdown did not finish flushing spans within the shutdown"
                + " timeout of "
                + shutdownTimeout.toMillis()
                + " ms";
    logger
        .atWarn()
        .addKeyValue(
            "exporter",
            targets.stream()
                .map(SdkDiagnostics.ExportTarget::exporter)
                .collect(Collectors.joining(",")))
        .addKeyValue(
            "endpoint",
            targets.stream()
                .map(SdkDiagnostics.ExportTarget::endpoint)
                .collect(Collectors.joining(",")))
        .addKeyValue("timeout_ms", shutdownTimeout.toMillis())
        .addKeyValue("lost_spans", lost)
        .log(
            "{} ({}); {} sampled span(s) not exported are lost, counted in"
                + " conea_spans_dropped_total{reason=\"shutdown\"}",
            what,
            named,
            lost);
  }

  /** Builds a {@link ConeaTracing} backed by an autoconfigured OpenTelemetry SDK. */
  public static final class Builder {

    // close() waits in nanoseconds; a longer Duration cannot be converted.
    private static final Duration MAX_SHUTDOWN_TIMEOUT = Duration.ofNanos(Long.MAX_VALUE);

    private final String defaultServiceName;
    private final Map<String, String> config = new LinkedHashMap<>();
    private final List<SpanProcessor> spanProcessors = new ArrayList<>();
    private boolean logSpans;
    private boolean sdkDiagnosticsToSlf4j = true;
    private Duration shutdownTimeout = Duration.ofSeconds(5);

    Builder(String defaultServiceName) {
      requireNonNull(defaultServiceName, "defaultServiceName");
      if (defaultServiceName.isBlank()) {
        throw new IllegalArgumentException("defaultServiceName must not be blank");
      }
      this.defaultServiceName = defaultServiceName;
    }

    /**
     * Sets configuration that takes precedence over environment variables and system properties,
     * for tests and for services that keep their configuration elsewhere. Keys may be written as
     * properties ({@code otel.traces.exporter}) or as environment variables ({@code
     * OTEL_TRACES_EXPORTER}). Default: empty.
     */
    public Builder config(Map<String, String> config) {
      requireNonNull(config, "config");
      Map<String, String> normalised = new LinkedHashMap<>();
      config.forEach(
          (key, value) -> {
            requireNonNull(key, "config key");
            requireNonNull(value, () -> "config value of " + key);
            normalised.put(propertyName(key), value);
          });
      this.config.clear();
      this.config.putAll(normalised);
      return this;
    }

    /**
     * Also writes every finished span to the log, like jaeger-client's {@code logSpans} (default
     * false). Applies only while {@code OTEL_TRACES_EXPORTER} is not set.
     */
    public Builder logSpans(boolean logSpans) {
      this.logSpans = logSpans;
      return this;
    }

    /**
     * Adds a span processor after the exporter's, for example an in-memory ring of recent spans.
     */
    public Builder addSpanProcessor(SpanProcessor spanProcessor) {
      requireNonNull(spanProcessor, "spanProcessor");
      spanProcessors.add(spanProcessor);
      return this;
    }

    /**
     * Sends the OpenTelemetry SDK's own java.util.logging diagnostics to SLF4J while this SDK is in
     * use (default true): named after the exporter and endpoint, throttled, through a handler on
     * the {@code io.opentelemetry} JUL logger only, which then no longer passes them to its
     * parents. False leaves java.util.logging as the service configured it.
     */
    public Builder sdkDiagnosticsToSlf4j(boolean sdkDiagnosticsToSlf4j) {
      this.sdkDiagnosticsToSlf4j = sdkDiagnosticsToSlf4j;
      return this;
    }

    /**
     * Sets how long {@link ConeaTracing#close()} waits for the last export (default 5 seconds); at
     * most {@code Long.MAX_VALUE} nanoseconds (about 292 years), the longest a wait can take.
     */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      requireNonNull(shutdownTimeout, "shutdownTimeout");
      if (shutdownTimeout.isNegative()) {
        throw new IllegalArgumentException("shutdownTimeout must not be negative");
      }
      if (shutdownTimeout.compareTo(MAX_SHUTDOWN_TIMEOUT) > 0) {
        throw new IllegalArgumentException(
            "shutdownTimeout must be at most "
                + MAX_SHUTDOWN_TIMEOUT
                + " (Long.MAX_VALUE nanoseconds), was "
                + shutdownTimeout);
      }
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /**
     * Builds the SDK; fails with a clear message when the configuration is invalid (an unknown
     * exporter or sampler, a malformed endpoint).
     */
    public ConeaTracing build() {
      Compatibility.require(
          ConeaTracing.class,
          Compatibility.OPENTELEMETRY_API,
          Compatibility.OPENTELEMETRY_CONTEXT,
          Compatibility.OPENTELEMETRY_SDK);
      Map<String, String> defaults = defaults(logSpans);
      String serviceName = defaultServiceName;
      Map<String, String> overrides = Collections.unmodifiableMap(new LinkedHashMap<>(config));
      List<SpanProcessor> processors = List.copyOf(spanProcessors);
      OpenTelemetrySdk sdk;
      boolean[] samplerReadsAttributes = {true};
      SpanExportStats stats = new SpanExportStats();
      // Before the SDK is built, so that its start-up diagnostics are routed too.
      SdkDiagnostics.@Nullable Registration diagnostics =
          sdkDiagnosticsToSlf4j ? SdkDiagnostics.register() : null;
      SdkDiagnostics.Registration targets =
          diagnostics != null ? diagnostics : SdkDiagnostics.Registration.unregistered();
      try {
        sdk =
            AutoConfiguredOpenTelemetrySdk.builder()
                .addPropertiesSupplier(() -> defaults)
                .addPropertiesCustomizer((ConfigProperties ignored) -> overrides)
                // A default otel.service.name would outrank service.name in
                // OTEL_RESOURCE_ATTRIBUTES, so the default applies only when neither is set.
                .addResourceCustomizer(
                    (resource, ignored) -> withDefaultName(resource, serviceName))
                .addTracerProviderCustomizer(
                    (tracerProvider, properties) -> {
                      tracerProvider.addSpanProcessor(stats.endedCounter());
                      processors.forEach(tracerProvider::addSpanProcessor);
                      String sampler = properties.getString("otel.traces.sampler");
                      samplerReadsAttributes[0] =
                          sampler == null || !ATTRIBUTE_FREE_SAMPLERS.contains(sampler.trim());
                      return tracerProvider;
                    })
                .addSpanExporterCustomizer(
                    (exporter, properties) -> stats.wrap(exporter, properties, targets))
                // The batch processor counts the spans its full queue drops on the SDK's meter
                // provider; this reader only reads them (and exports nothing).
                .addMeterProviderCustomizer(
                    (meterProvider, ignored) -> meterProvider.registerMetricReader(stats.reader()))
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
      } catch (RuntimeException | LinkageError e) {
        if (diagnostics != null) {
          diagnostics.close();
        }
        throw new IllegalArgumentException(
            "Invalid OpenTelemetry configuration: " + e.getMessage(), e);
      }
      return new ConeaTracing(
          sdk, sdk, shutdownTimeout, samplerReadsAttributes[0], stats, diagnostics);
    }

    static Map<String, String> defaults(boolean logSpans) {
      Map<String, String> defaults = new LinkedHashMap<>();
      defaults.put("otel.traces.sampler", "parentbased_traceidratio");
      defaults.put("otel.traces.sampler.arg", "0.1");
      defaults.put("otel.traces.exporter", logSpans ? "otlp,logging" : "otlp");
      defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
      defaults.put("otel.exporter.otlp.endpoint", "http://localhost:4318");
      defaults.put("otel.propagators", "tracecontext,baggage,jaeger");
      defaults.put("otel.bsp.max.queue.size", "2048");
      defaults.put("otel.attribute.value.length.limit", "1024");
      defaults.put("otel.metrics.exporter", "none");
      defaults.put("otel.logs.exporter", "none");
      return Collections.unmodifiableMap(defaults);
    }

    /**
     * Names the service unless the configuration did: the SDK's placeholder name means it did not.
     */
    static Resource withDefaultName(Resource resource, String serviceName) {
      String configured = resource.getAttribute(ServiceAttributes.SERVICE_NAME);
      if (configured != null && !configured.equals(UNKNOWN_SERVICE_NAME)) {
        return resource;
      }
      return resource.toBuilder().put(ServiceAttributes.SERVICE_NAME, serviceName).build();
    }

    private static String propertyName(String key) {
      if (key.indexOf('.') >= 0) {
        return key.toLowerCase(Locale.ROOT);
      }
      return key.toLowerCase(Locale.ROOT).replace('_', '.');
    }
  }
}
