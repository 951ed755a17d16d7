package io.conea.tracing.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.conea.logging.ConeaJsonEncoder;
import io.conea.metrics.ConeaMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A collector that never answers, seen where users look: the JSON log and a metric. */
class ExportFailuresTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern DROPPED =
      Pattern.compile("(?m)^conea_spans_dropped_total\\{reason=\"(\\w+)\"} (\\S+)$");

  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final List<ch.qos.logback.classic.Logger> captured = new ArrayList<>();
  private final ConeaJsonEncoder encoder = new ConeaJsonEncoder();

  @BeforeEach
  void capture() {
    appender.setContext(context);
    appender.start();
    for (String name : List.of("io.opentelemetry", ConeaTracing.class.getName())) {
      ch.qos.logback.classic.Logger logger = context.getLogger(name);
      logger.addAppender(appender);
      logger.setLevel(Level.INFO);
      logger.setAdditive(false); // keeps the test output readable; the events are asserted
      captured.add(logger);
    }
    encoder.setContext(context);
    encoder.setService("conea-api");
    encoder.start();
  }

  @AfterEach
  void release() {
    for (ch.qos.logback.classic.Logger logger : captured) {
      logger.detachAppender(appender);
      logger.setLevel(null);
      logger.setAdditive(true);
    }
    appender.stop();
  }

  /** The captured events as the service's JSON log lines, parsed back. */
  private List<JsonNode> jsonLines(String loggerPrefix) throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    for (ILoggingEvent event : List.copyOf(appender.list)) {
      if (!event.getLoggerName().startsWith(loggerPrefix)) {
        continue;
      }
      String line = new String(encoder.encode(event), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(line).endsWith("\n");
      assertThat(line.indexOf('\n')).as("one line per event").isEqualTo(line.length() - 1);
      lines.add(JSON.readTree(line));
    }
    return lines;
  }

  private static Map<String, Double> dropped(PrometheusMeterRegistry registry) {
    Map<String, Double> dropped = new HashMap<>();
    Matcher matcher = DROPPED.matcher(registry.scrape());
    while (matcher.find()) {
      dropped.put(matcher.group(1), Double.parseDouble(matcher.group(2)));
    }
    return dropped;
  }

  private static void emit(ConeaTracing tracing, int spans) {
    for (int i = 0; i < spans; i++) {
      tracing.openTelemetry().getTracer("test").spanBuilder("span-" + i).startSpan().end();
    }
  }

  private static CompletableResultCode flush(ConeaTracing tracing) {
    return ((OpenTelemetrySdk) tracing.openTelemetry()).getSdkTracerProvider().forceFlush();
  }

  private static Map<String, String> deadCollector(String endpoint, String... more) {
    Map<String, String> config = new HashMap<>();
    config.put("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    config.put("OTEL_TRACES_SAMPLER", "always_on");
    config.put("OTEL_EXPORTER_OTLP_TIMEOUT", "100");
    // Fails each export at once: OpenTelemetry 1.49 would retry a timeout for about 8 seconds.
    config.put("otel.java.exporter.otlp.retry.disabled", "true");
    config.put("OTEL_BSP_SCHEDULE_DELAY", "60000");
    config.put("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8");
    for (int i = 0; i < more.length; i += 2) {
      config.put(more[i], more[i + 1]);
    }
    return config;
  }

  /**
   * conea-api's tracing exporting to {@code endpoint}, with {@link #deadCollector}'s settings, this
   * export timeout and {@code more}, and this shutdown wait.
   */
  private static ConeaTracing exportingTo(
      String endpoint, int exportTimeoutMillis, Duration shutdownTimeout, String... more) {
    Map<String, String> config = deadCollector(endpoint, more);
    config.put("OTEL_EXPORTER_OTLP_TIMEOUT", Integer.toString(exportTimeoutMillis));
    return ConeaTracing.builder("conea-api")
        .config(config)
        .shutdownTimeout(shutdownTimeout)
        .build();
  }

  @Test
  void deadCollectorGivesBoundedJsonErrorLinesNamingExporterAndEndpointAndCountsFailedSpans()
      throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (Blackhole blackhole = new Blackhole()) {
      ConeaTracing tracing =
          ConeaTracing.builder("conea-api").config(deadCollector(blackhole.endpoint())).build();
      int batches = 40;
      try {
        tracing.httpServerTracing(ConeaMetrics.create(registry)).build();
        assertThat(SdkDiagnostics.isInstalled()).isTrue();
        for (int i = 0; i < batches; i++) {
          emit(tracing, 8); // a full batch, exported at once
          // Not forceFlush(): the SDK's can return before a flush it raced with has exported.
          double failed = 8.0 * (i + 1);
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
          while (dropped(registry).get("export_failed") < failed && System.nanoTime() < deadline) {
            Thread.sleep(5);
          }
        }
      } finally {
        tracing.close();
      }
      assertThat(SdkDiagnostics.isInstalled()).isFalse();
      // Every export to the dead collector failed: all of its spans are counted, once.
      assertThat(dropped(registry))
          .containsEntry("export_failed", batches * 8.0)
          .containsEntry("queue_full", 0.0);

      String endpoint = blackhole.endpoint() + "/v1/traces";
      List<JsonNode> lines = jsonLines("io.opentelemetry");
      assertThat(lines).isNotEmpty();
      // 40 failures within a minute: the SDK's own throttle and conea's keep the lines bounded.
      assertThat(lines.size()).isLessThanOrEqualTo(SdkDiagnostics.LINES_PER_MINUTE);
      for (JsonNode line : lines) {
        assertThat(line.path("service").asText()).isEqualTo("conea-api");
        assertThat(line.path("message").asText())
            .contains("exporter otlp http/protobuf, endpoint " + endpoint);
        assertThat(line.path("metadata").path("exporter").asText()).isEqualTo("otlp http/protobuf");
        assertThat(line.path("metadata").path("endpoint").asText()).isEqualTo(endpoint);
      }
      List<JsonNode> failures =
          lines.stream()
              .filter(line -> line.path("message").asText().startsWith("Failed to export"))
              .toList();
      assertThat(failures).isNotEmpty();
      for (JsonNode failure : failures) {
        assertThat(failure.path("level").asText()).isEqualTo("error");
        // The stack trace is inside the error object, not in extra lines.
        assertThat(failure.path("error").path("type").asText()).isNotEmpty();
      }
    }
  }

  @Test
  void spansDroppedByAFullQueueAndFailedExportsAddUpToAllSampledSpans() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (Blackhole blackhole = new Blackhole()) {
      ConeaTracing tracing =
          exportingTo(
              blackhole.endpoint(), 1000, Duration.ofSeconds(10), "OTEL_BSP_MAX_QUEUE_SIZE", "8");
      tracing.bindTo(registry);
      emit(tracing, 8); // a full batch, exported at once
      // Once the collector has the connection, the exporter thread waits for its answer (1 s)
      // and the queue fills up. (No forceFlush(): a shutdown racing with it can lose spans.)
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (blackhole.acceptedConnections() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      emit(tracing, 200);
      Map<String, Double> before = dropped(registry);
      tracing.close(); // the last batches fail too
      Map<String, Double> dropped = dropped(registry);
      assertThat(before.get("queue_full")).isEqualTo(dropped.get("queue_full"));
      assertThat(dropped.get("queue_full")).isPositive();
      assertThat(dropped.get("export_failed")).isPositive();
      assertThat(
              dropped.get("queue_full")
                  + dropped.get("export_failed")
                  + dropped.getOrDefault("shutdown", 0.0))
          .isEqualTo(208.0);
    }
  }

  @Test
  void aShutdownFlushThatTimesOutIsReportedOnce() throws Exception {
    try (Blackhole blackhole = new Blackhole()) {
      ConeaTracing tracing =
          exportingTo(
              blackhole.endpoint(),
              2000,
              Duration.ofMillis(300),
              "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
              "512");
      emit(tracing, 10);
      tracing.close();
      tracing.close();
      List<JsonNode> reports =
          jsonLines(ConeaTracing.class.getName()).stream()
              .filter(line -> line.path("message").asText().contains("did not finish"))
              .toList();
      assertThat(reports).hasSize(1);
      JsonNode report = reports.get(0);
      assertThat(report.path("level").asText()).isEqualTo("warn");
      assertThat(report.path("message").asText())
          .contains("300 ms")
          .contains("exporter otlp http/protobuf, endpoint " + blackhole.endpoint() + "/v1/traces")
          .contains("10 sampled span(s) not exported are lost");
      assertThat(report.path("metadata").path("lost_spans").asLong()).isEqualTo(10);
      assertThat(report.path("metadata").path("timeout_ms").asLong()).isEqualTo(300);
      // The JUL logger is restored by close(), even though the export is still running.
      assertThat(SdkDiagnostics.isInstalled()).isFalse();
      assertThat(java.util.logging.Logger.getLogger("io.opentelemetry").getUseParentHandlers())
          .isTrue();
    }
  }

  @Test
  void spansLeftWhenTheShutdownWaitRunsOutAreCountedOnceAsShutdown() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (Blackhole blackhole = new Blackhole()) {
      ConeaTracing tracing =
          exportingTo(
              blackhole.endpoint(),
              1000,
              Duration.ofMillis(200),
              "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
              "512");
      tracing.bindTo(registry);
      emit(tracing, 50);
      io.opentelemetry.api.trace.Span open =
          tracing.openTelemetry().getTracer("test").spanBuilder("open").startSpan();
      long start = System.nanoTime();
      tracing.close();
      long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      // Within the bound: the collector holds the export for a second.
      assertThat(closeMillis).isLessThan(900);
      assertThat(dropped(registry))
          .containsEntry("shutdown", 50.0)
          .containsEntry("export_failed", 0.0)
          .containsEntry("queue_full", 0.0);
      open.end(); // ended after close: never exported either
      assertThat(dropped(registry)).containsEntry("shutdown", 51.0);

      // The export still running fails a second later; its spans are already counted.
      SpanExportStats stats = java.util.Objects.requireNonNull(tracing.exportStats());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (stats.lateExports() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(stats.lateExports()).isEqualTo(1);
      Map<String, Double> dropped = dropped(registry);
      assertThat(dropped.values().stream().mapToDouble(Double::doubleValue).sum()).isEqualTo(51.0);
      assertThat(dropped).containsEntry("shutdown", 51.0);

      List<JsonNode> reports =
          jsonLines(ConeaTracing.class.getName()).stream()
              .filter(line -> line.path("message").asText().contains("lost"))
              .toList();
      assertThat(reports).hasSize(1);
      assertThat(reports.get(0).path("metadata").path("lost_spans").asLong()).isEqualTo(50);
    }
  }

  @Test
  void aHealthyCollectorLosesNoSpanAtShutdown() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      ConeaTracing tracing =
          exportingTo(
              receiver.endpoint(),
              10000,
              Duration.ofSeconds(10),
              "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
              "16");
      tracing.bindTo(registry);
      emit(tracing, 100);
      tracing.close();
      assertThat(receiver.spans()).hasSize(100);
      assertThat(dropped(registry))
          .containsEntry("shutdown", 0.0)
          .containsEntry("export_failed", 0.0)
          .containsEntry("queue_full", 0.0);
      assertThat(jsonLines(ConeaTracing.class.getName())).isEmpty();
    }
  }

  @Test
  void aClosedPortIsNamedToo() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    String endpoint = "http://127.0.0.1:" + port;
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (ConeaTracing tracing =
        ConeaTracing.builder("conea-api").config(deadCollector(endpoint)).build()) {
      tracing.bindTo(registry);
      emit(tracing, 8);
      flush(tracing).join(10, TimeUnit.SECONDS);
      assertThat(dropped(registry)).containsEntry("export_failed", 8.0);
      List<JsonNode> lines = jsonLines("io.opentelemetry");
      assertThat(lines)
          .isNotEmpty()
          .allSatisfy(
              line ->
                  assertThat(line.path("message").asText())
                      .contains(
                          "exporter otlp http/protobuf, endpoint " + endpoint + "/v1/traces"));
    }
  }

  @Test
  void optingOutLeavesJavaUtilLoggingAlone() {
    java.util.logging.Logger jul = java.util.logging.Logger.getLogger("io.opentelemetry");
    try (ConeaTracing tracing =
        ConeaTracing.builder("conea-api")
            .config(Map.of("OTEL_TRACES_EXPORTER", "none"))
            .sdkDiagnosticsToSlf4j(false)
            .build()) {
      assertThat(tracing.openTelemetry()).isNotNull();
      assertThat(SdkDiagnostics.isInstalled()).isFalse();
      assertThat(jul.getUseParentHandlers()).isTrue();
    }
    try (ConeaTracing tracing =
        ConeaTracing.builder("conea-api").config(Map.of("OTEL_TRACES_EXPORTER", "none")).build()) {
      assertThat(tracing.openTelemetry()).isNotNull();
      assertThat(jul.getUseParentHandlers()).isFalse();
    }
    assertThat(jul.getUseParentHandlers()).isTrue();
    assertThat(jul.getHandlers()).isEmpty();
  }

  @Test
  void aFloodOfDiagnosticsIsCutToTheLimitPerMinuteAndTheRestCounted() throws IOException {
    AtomicLong now = new AtomicLong();
    SdkDiagnostics.ForwardingHandler handler =
        new SdkDiagnostics.ForwardingHandler(
            now::get,
            () ->
                List.of(
                    new SdkDiagnostics.ExportTarget(
                        "otlp http/protobuf", "http://collector:4318/v1/traces")));
    // A logger of its own: the budget is per logger, and real exporters may log meanwhile.
    String name = "io.opentelemetry.exporter.test.FloodingExporter";
    for (int i = 0; i < 1_000; i++) {
      LogRecord record =
          new LogRecord(java.util.logging.Level.SEVERE, "Failed to export spans. Attempt {0}");
      record.setLoggerName(name);
      record.setParameters(new Object[] {i});
      record.setThrown(new IOException("connection refused"));
      handler.publish(record);
    }
    assertThat(jsonLines(name)).hasSize(SdkDiagnostics.LINES_PER_MINUTE);
    now.addAndGet(TimeUnit.SECONDS.toNanos(61));
    LogRecord next = new LogRecord(java.util.logging.Level.WARNING, "Failed again");
    next.setLoggerName(name);
    handler.publish(next);
    List<JsonNode> lines = jsonLines(name);
    assertThat(lines).hasSize(SdkDiagnostics.LINES_PER_MINUTE + 1);
    assertThat(lines.get(0).path("message").asText())
        .isEqualTo(
            "Failed to export spans. Attempt 0 (exporter otlp http/protobuf, endpoint"
                + " http://collector:4318/v1/traces)");
    assertThat(lines.get(0).path("error").path("type").asText()).isEqualTo("java.io.IOException");
    JsonNode last = lines.get(SdkDiagnostics.LINES_PER_MINUTE);
    assertThat(last.path("level").asText()).isEqualTo("warn");
    assertThat(last.path("message").asText()).contains("990 earlier line(s)");
    assertThat(last.path("metadata").path("suppressed").asLong()).isEqualTo(990);
  }
}
