package io.conea.tracing.sdk;

import io.conea.tracing.sdk.SdkDiagnostics.ExportTarget;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.URI;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Counts the sampled spans of conea's SDK that never reach the backend, for {@code
 * conea_spans_dropped_total{reason}}: those the batch processor dropped because its queue was full
 * (read from the processor's own instruments through a metric reader on the SDK's meter provider),
 * those in exports that failed or timed out (counted by a wrapper around each exporter), and those
 * not exported when {@link ConeaTracing#close()} gave up ({@code shutdown}).
 *
 * <p>The last reason is what the others leave: a processor beside the batch processor counts the
 * sampled spans that end, each batch exporter counts the spans it exported and those it failed, and
 * {@link #freeze()} (at close) takes every count as final. From then on a span that ended, for each
 * batch exporter, and is neither exported, failed nor dropped from a full queue is lost at
 * shutdown: still queued, in an export that had not finished, or ended after close. An export that
 * finishes after the freeze changes nothing, so each span is counted once.
 */
final class SpanExportStats {

  static final String DROPPED = "conea.spans.dropped";
  static final String REASON = "reason";
  static final String QUEUE_FULL = "queue_full";
  static final String EXPORT_FAILED = "export_failed";
  static final String SHUTDOWN = "shutdown";

  private static final String DESCRIPTION =
      "Sampled spans that never reached the trace backend: dropped because the export queue was"
          + " full, in an export that failed or timed out, or not exported when the SDK was shut"
          + " down";

  // The only exporter the SDK's autoconfiguration gives a simple (not a batch) processor.
  private static final String LOGGING_EXPORTER =
      "io.opentelemetry.exporter.logging.LoggingSpanExporter";

  private static final String TRACE_SCOPE = "io.opentelemetry.sdk.trace";
  // The processor's instruments before and after the semantic-convention ones (OTel 1.49 and on).
  private static final String LEGACY_PROCESSED = "processedSpans";
  private static final AttributeKey<Boolean> LEGACY_DROPPED = AttributeKey.booleanKey("dropped");
  private static final String PROCESSED = "otel.sdk.processor.span.processed";
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private static final Pattern ENDPOINT = Pattern.compile("endpoint=([^,}\\s]+)");

  private final LongAdder exportFailed = new LongAdder();
  private final LongAdder ended = new LongAdder();
  private final AtomicLong queueFull = new AtomicLong();
  private final List<CountingExporter> batchExporters = new CopyOnWriteArrayList<>();
  private final SpanProcessor endedCounter = new EndedCounter(ended);
  // Guarded by this: set once by freeze(); completions after it are not counted.
  private boolean frozen;
  // Guarded by this: exports that finished after freeze(), for tests.
  private long lateExports;
  private final Reader reader = new Reader();
  private final List<ExportTarget> targets = new CopyOnWriteArrayList<>();

  /**
   * Registers the meters on {@code registry}, once: Spring Boot binds every {@code MeterBinder}
   * bean, and {@code httpServerTracing(metrics)} binds too, and a registry warns of a second
   * registration. The counts are kept here.
   */
  synchronized void bindTo(MeterRegistry registry) {
    if (registry.find(DROPPED).tag(REASON, QUEUE_FULL).functionCounter() != null) {
      return;
    }
    FunctionCounter.builder(DROPPED, this, SpanExportStats::queueFullSpans)
        .description(DESCRIPTION)
        .tag(REASON, QUEUE_FULL)
        .register(registry);
    FunctionCounter.builder(DROPPED, this, SpanExportStats::exportFailedSpans)
        .description(DESCRIPTION)
        .tag(REASON, EXPORT_FAILED)
        .register(registry);
    FunctionCounter.builder(DROPPED, this, SpanExportStats::shutdownSpans)
        .description(DESCRIPTION)
        .tag(REASON, SHUTDOWN)
        .register(registry);
  }

  /**
   * The processor to add to the SDK's tracer provider: it counts the sampled spans that end, which
   * the batch processor receives too.
   */
  SpanProcessor endedCounter() {
    return endedCounter;
  }

  /** The metric reader to register on the SDK's meter provider. */
  MetricReader reader() {
    return reader;
  }

  /** The OTLP exporters found so far, with their endpoints. */
  List<ExportTarget> targets() {
    return Collections.unmodifiableList(targets);
  }

  /** Wraps one of the SDK's configured exporters so that its failures are counted. */
  SpanExporter wrap(SpanExporter exporter, ConfigProperties config, SdkDiagnostics.Registration r) {
    ExportTarget target = target(exporter, config);
    if (target != null) {
      targets.add(target);
      r.addTarget(target);
    }
    CountingExporter counting = new CountingExporter(exporter, this);
    if (!exporter.getClass().getName().equals(LOGGING_EXPORTER)) {
      batchExporters.add(counting);
    }
    return counting;
  }

  double queueFullSpans() {
    synchronized (this) {
      if (frozen) {
        return queueFull.get();
      }
    }
    long read = reader.queueFullDrops();
    // The reading stops when the SDK is shut down: keep the last one, a counter never goes down.
    return queueFull.accumulateAndGet(read, Math::max);
  }

  double exportFailedSpans() {
    return exportFailed.sum();
  }

  /**
   * Takes the counts as final once the SDK's shutdown has finished or its wait has run out, and
   * returns the spans lost at shutdown.
   */
  long freeze() {
    queueFullSpans(); // the last reading
    synchronized (this) {
      frozen = true;
    }
    return (long) shutdownSpans();
  }

  /**
   * Returns the spans lost at shutdown: 0 before {@link #freeze()}, then, for each batch exporter,
   * the sampled spans that ended and that it neither exported nor failed, less those the full queue
   * dropped. Spans that end after the freeze are included as they end.
   */
  double shutdownSpans() {
    long dropped = queueFull.get();
    long lost = 0;
    synchronized (this) {
      if (!frozen) {
        return 0;
      }
      long sampled = ended.sum();
      for (CountingExporter exporter : batchExporters) {
        lost += Math.max(0, sampled - dropped - exporter.exported - exporter.failed);
      }
    }
    return lost;
  }

  /** Returns how many exports finished after {@link #freeze()}, uncounted. */
  synchronized long lateExports() {
    return lateExports;
  }

  /** Counts one finished export of {@code count} spans, unless the counts are final. */
  private synchronized void settle(CountingExporter exporter, int count, boolean success) {
    if (frozen) {
      lateExports++;
      return;
    }
    if (success) {
      exporter.exported += count;
    } else {
      exporter.failed += count;
      exportFailed.add(count);
    }
  }

  static @Nullable ExportTarget target(SpanExporter exporter, ConfigProperties config) {
    String className = exporter.getClass().getName();
    if (!className.startsWith("io.opentelemetry.exporter.otlp")) {
      return null;
    }
    boolean grpc = className.contains("Grpc");
    String protocol =
        grpc
            ? "grpc"
            : config.getString(
                "otel.exporter.otlp.traces.protocol",
                config.getString("otel.exporter.otlp.protocol", "http/protobuf"));
    String endpoint = null;
    try {
      Matcher matcher = ENDPOINT.matcher(exporter.toString());
      if (matcher.find()) {
        endpoint = matcher.group(1);
      }
    } catch (RuntimeException e) {
      // A description is only a nicety; the configuration below says the same.
    }
    if (endpoint == null) {
      endpoint = configuredEndpoint(config, grpc);
    }
    return new ExportTarget("otlp " + protocol.toLowerCase(Locale.ROOT), withoutSecrets(endpoint));
  }

  private static String configuredEndpoint(ConfigProperties config, boolean grpc) {
    String traces = config.getString("otel.exporter.otlp.traces.endpoint");
    if (traces != null) {
      return traces;
    }
    String base =
        config.getString(
            "otel.exporter.otlp.endpoint",
            grpc ? "http://localhost:4317" : "http://localhost:4318");
    if (grpc) {
      return base;
    }
    return (base.endsWith("/") ? base : base + "/") + "v1/traces";
  }

  /** Drops user information and the query, which may hold credentials, from an endpoint. */
  static String withoutSecrets(String endpoint) {
    try {
      URI uri = URI.create(endpoint);
      if (uri.getScheme() == null || uri.getHost() == null) {
        return endpoint;
      }
      return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), null, null)
          .toString();
    } catch (IllegalArgumentException | java.net.URISyntaxException e) {
      return "(unparsable endpoint)";
    }
  }

  /** Counts the spans of every export that fails, whenever it completes. */
  static final class CountingExporter implements SpanExporter {

    private final SpanExporter delegate;
    private final SpanExportStats stats;
    // Guarded by stats.
    private long exported;
    private long failed;

    CountingExporter(SpanExporter delegate, SpanExportStats stats) {
      this.delegate = delegate;
      this.stats = stats;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      int count = spans.size();
      CompletableResultCode result;
      try {
        result = delegate.export(spans);
      } catch (RuntimeException | LinkageError e) {
        stats.settle(this, count, false);
        throw e; // the batch processor reports it, as without conea
      }
      result.whenComplete(
          () -> {
            stats.settle(this, count, result.isSuccess());
          });
      return result;
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }

    @Override
    public String toString() {
      return delegate.toString();
    }
  }

  /** Counts the sampled spans that end, as the batch processor beside it sees them. */
  static final class EndedCounter implements SpanProcessor {

    private final LongAdder ended;

    EndedCounter(LongAdder ended) {
      this.ended = ended;
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {}

    @Override
    public boolean isStartRequired() {
      return false;
    }

    @Override
    public void onEnd(ReadableSpan span) {
      if (span.getSpanContext().isSampled()) {
        ended.increment();
      }
    }

    @Override
    public boolean isEndRequired() {
      return true;
    }
  }

  /** Reads the batch processor's own instruments on demand; exports nothing. */
  final class Reader implements MetricReader {

    private volatile CollectionRegistration registration = CollectionRegistration.noop();

    @Override
    public void register(CollectionRegistration registration) {
      this.registration = registration;
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
      return AggregationTemporality.CUMULATIVE;
    }

    @Override
    public CompletableResultCode forceFlush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      queueFullSpans(); // the last reading, in case the SDK reads nothing once shut down
      return CompletableResultCode.ofSuccess();
    }

    long queueFullDrops() {
      long dropped = 0;
      for (MetricData metric : collect()) {
        if (metric.getType() != MetricDataType.LONG_SUM) {
          continue;
        }
        boolean legacy = metric.getName().equals(LEGACY_PROCESSED);
        if (!legacy && !metric.getName().equals(PROCESSED)) {
          continue;
        }
        for (LongPointData point : metric.getLongSumData().getPoints()) {
          boolean full =
              legacy
                  ? Boolean.TRUE.equals(point.getAttributes().get(LEGACY_DROPPED))
                  : QUEUE_FULL.equals(point.getAttributes().get(ERROR_TYPE));
          if (full) {
            dropped += point.getValue();
          }
        }
      }
      return dropped;
    }

    private Collection<MetricData> collect() {
      try {
        Collection<MetricData> all = registration.collectAllMetrics();
        List<MetricData> trace = new java.util.ArrayList<>();
        for (MetricData metric : all) {
          if (metric.getInstrumentationScopeInfo().getName().equals(TRACE_SCOPE)) {
            trace.add(metric);
          }
        }
        return trace;
      } catch (RuntimeException | LinkageError e) {
        return Collections.emptyList();
      }
    }
  }
}
