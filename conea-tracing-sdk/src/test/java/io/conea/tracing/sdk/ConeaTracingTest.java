package io.conea.tracing.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conea.metrics.ConeaMetrics;
import io.conea.tracing.HttpServerTracing;
import io.conea.tracing.TestTelemetry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class ConeaTracingTest {

  private static final Map<String, String> NO_EXPORT = Map.of("OTEL_TRACES_EXPORTER", "none");

  private static OpenTelemetrySdk sdk(ConeaTracing tracing) {
    return (OpenTelemetrySdk) tracing.openTelemetry();
  }

  private static void emit(ConeaTracing tracing, String name) {
    tracing.openTelemetry().getTracer("test").spanBuilder(name).startSpan().end();
  }

  @Test
  void defaultsAreTheGuidesSamplerPropagatorsAndLimits() {
    try (ConeaTracing tracing = ConeaTracing.builder("conea-api").config(NO_EXPORT).build()) {
      assertThat(sdk(tracing).getSdkTracerProvider().getSampler().getDescription())
          .isEqualTo(
              "ParentBased{root:TraceIdRatioBased{0.100000},remoteParentSampled:AlwaysOnSampler,"
                  + "remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,"
                  + "localParentNotSampled:AlwaysOffSampler}");
      assertThat(tracing.openTelemetry().getPropagators().getTextMapPropagator().fields())
          .contains("traceparent", "tracestate", "baggage", "uber-trace-id");
      assertThat(sdk(tracing).getSdkTracerProvider().getSpanLimits().getMaxAttributeValueLength())
          .isEqualTo(1024);
    }
  }

  @Test
  void configMapOverridesDefaultsInEitherSpelling() {
    InMemorySpanExporter memory = InMemorySpanExporter.create();
    try (ConeaTracing tracing =
        ConeaTracing.builder("conea-api")
            .config(
                Map.of(
                    "OTEL_TRACES_EXPORTER", "none",
                    "otel.traces.sampler", "always_on",
                    "OTEL_SERVICE_NAME", "billing"))
            .addSpanProcessor(SimpleSpanProcessor.create(memory))
            .build()) {
      emit(tracing, "work");
      assertThat(sdk(tracing).getSdkTracerProvider().getSampler().getDescription())
          .isEqualTo("AlwaysOnSampler");
      SpanData span = memory.getFinishedSpanItems().get(0);
      assertThat(
              span.getResource()
                  .getAttribute(io.opentelemetry.semconv.ServiceAttributes.SERVICE_NAME))
          .isEqualTo("billing");
    }
  }

  @Test
  void systemPropertyOverridesTheDefaultServiceName() {
    InMemorySpanExporter memory = InMemorySpanExporter.create();
    System.setProperty("otel.service.name", "from-system-property");
    try (ConeaTracing tracing =
        ConeaTracing.builder("conea-api")
            .config(Map.of("OTEL_TRACES_EXPORTER", "none", "OTEL_TRACES_SAMPLER", "always_on"))
            .addSpanProcessor(SimpleSpanProcessor.create(memory))
            .build()) {
      emit(tracing, "work");
      assertThat(
              memory
                  .getFinishedSpanItems()
                  .get(0)
                  .getResource()
                  .getAttribute(io.opentelemetry.semconv.ServiceAttributes.SERVICE_NAME))
          .isEqualTo("from-system-property");
    } finally {
      System.clearProperty("otel.service.name");
    }
  }

  @Test
  void defaultServiceNameIsUsedWhenNothingOverridesIt() {
    InMemorySpanExporter memory = InMemorySpanExporter.create();
    try (ConeaTracing tracing =
        ConeaTracing.builder("conea-api")
            .config(Map.of("OTEL_TRACES_EXPORTER", "none", "OTEL_TRACES_SAMPLER", "always_on"))
            .addSpanProcessor(SimpleSpanProcessor.create(memory))
            .build()) {
      emit(tracing, "work");
      assertThat(
              memory
                  .getFinishedSpanItems()
                  .get(0)
                  .getResource()
                  .getAttribute(io.opentelemetry.semconv.ServiceAttributes.SERVICE_NAME))
          .isEqualTo(
              System.getenv("OTEL_SERVICE_NAME") != null
                  ? System.getenv("OTEL_SERVICE_NAME")
                  : "conea-api");
    }
  }

  /** Returns the service.name of a span emitted by an SDK built with the given configuration. */
  private static String serviceName(Map<String, String> config) {
    InMemorySpanExporter memory = InMemorySpanExporter.create();
    Map<String, String> all = new java.util.HashMap<>(config);
    all.put("OTEL_TRACES_EXPORTER", "none");
    all.put("OTEL_TRACES_SAMPLER", "always_on");
    try (ConeaTracing tracing =
        ConeaTracing.builder("conea-api")
            .config(all)
            .addSpanProcessor(SimpleSpanProcessor.create(memory))
            .build()) {
      emit(tracing, "work");
      return memory
          .getFinishedSpanItems()
          .get(0)
          .getResource()
          .getAttribute(io.opentelemetry.semconv.ServiceAttributes.SERVICE_NAME);
    }
  }

  /** The environment's OTEL_SERVICE_NAME outranks every resource attribute, as in the SDK. */
  private static String unlessServiceNameInEnvironment(String expected) {
    String fromEnvironment = System.getenv("OTEL_SERVICE_NAME");
    return fromEnvironment != null ? fromEnvironment : expected;
  }

  @Test
  void serviceNameInResourceAttributesOverridesTheDefault() {
    assertThat(serviceName(Map.of("OTEL_RESOURCE_ATTRIBUTES", "service.name=billing,team=pay")))
        .isEqualTo(unlessServiceNameInEnvironment("billing"));
    System.setProperty("otel.resource.attributes", "service.name=from-system-property");
    try {
      assertThat(serviceName(Map.of()))
          .isEqualTo(unlessServiceNameInEnvironment("from-system-property"));
    } finally {
      System.clearProperty("otel.resource.attributes");
    }
  }

  @Test
  void serviceNamePropertyWinsOverResourceAttributesAndTheDefault() {
    assertThat(
            serviceName(
                Map.of(
                    "otel.service.name",
                    "billing",
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "service.name=other")))
        .isEqualTo("billing");
    assertThat(serviceName(Map.of("otel.service.name", "billing"))).isEqualTo("billing");
  }

  @Test
  void resourceAttributesWithoutServiceNameKeepTheDefault() {
    assertThat(serviceName(Map.of("OTEL_RESOURCE_ATTRIBUTES", "team=pay")))
        .isEqualTo(unlessServiceNameInEnvironment("conea-api"));
  }

  @Test
  void spansAreExportedAsOtlpHttpProtobufToTheCollector() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      String traceId;
      try (ConeaTracing tracing =
          ConeaTracing.builder("conea-api")
              .config(
                  Map.of(
                      "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
                      "OTEL_TRACES_SAMPLER", "always_on",
                      "OTEL_SERVICE_NAME", "conea-api"))
              .build()) {
        Span span =
            tracing
                .openTelemetry()
                .getTracer("test")
                .spanBuilder("GET /api/v1/users/{id}")
                .startSpan();
        traceId = span.getSpanContext().getTraceId();
        span.end();
      } // close() flushes the batch
      assertThat(receiver.contentTypes()).contains("application/x-protobuf");
      assertThat(receiver.spans()).hasSize(1);
      OtlpReceiver.ReceivedSpan received = receiver.spans().get(0);
      assertThat(received.name).isEqualTo("GET /api/v1/users/{id}");
      assertThat(received.traceId).isEqualTo(traceId);
      assertThat(received.serviceName).isEqualTo("conea-api");
    }
  }

  @Test
  void closeReturnsWithinItsBoundWhenTheCollectorNeverAnswers() throws Exception {
    try (Blackhole blackhole = new Blackhole()) {
      ConeaTracing tracing =
          ConeaTracing.builder("conea-api")
              .config(
                  Map.of(
                      "OTEL_EXPORTER_OTLP_ENDPOINT",
                      blackhole.endpoint(),
                      "OTEL_TRACES_SAMPLER",
                      "always_on"))
              .shutdownTimeout(Duration.ofMillis(500))
              .build();
      for (int i = 0; i < 100; i++) {
        emit(tracing, "span-" + i);
      }
      long start = System.nanoTime();
      tracing.close();
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(elapsedMillis).isLessThan(3_000);
      assertThat(blackhole.acceptedConnections()).isPositive();
    }
  }

  @Test
  void logSpansWritesFinishedSpansToTheLog() {
    Logger julLogger = Logger.getLogger("io.opentelemetry.exporter.logging.LoggingSpanExporter");
    List<String> messages = new CopyOnWriteArrayList<>();
    Handler handler =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            messages.add(
                String.valueOf(record.getMessage())
                    + " "
                    + java.util.Arrays.toString(record.getParameters()));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    julLogger.addHandler(handler);
    try (Blackhole blackhole = new Blackhole();
        ConeaTracing tracing =
            ConeaTracing.builder("conea-api")
                .config(
                    Map.of(
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        blackhole.endpoint(),
                        "OTEL_TRACES_SAMPLER",
                        "always_on"))
                .logSpans(true)
                .shutdownTimeout(Duration.ofMillis(200))
                .build()) {
      emit(tracing, "logged-span");
      sdk(tracing)
          .getSdkTracerProvider()
          .forceFlush()
          .join(1, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(messages).anySatisfy(m -> assertThat(m).contains("logged-span"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      julLogger.removeHandler(handler);
    }
  }

  @Test
  void loggingAndNoneAreExporterOptions() {
    try (ConeaTracing tracing =
        ConeaTracing.builder("conea-api")
            .config(Map.of("OTEL_TRACES_EXPORTER", "logging"))
            .build()) {
      assertThat(sdk(tracing).getSdkTracerProvider().toString()).contains("LoggingSpanExporter");
    }
    try (ConeaTracing tracing = ConeaTracing.builder("conea-api").config(NO_EXPORT).build()) {
      assertThat(sdk(tracing).getSdkTracerProvider().toString()).doesNotContain("SpanExporter");
    }
  }

  @Test
  void invalidConfigurationFailsFastWithTheReason() {
    assertThatThrownBy(
            () ->
                ConeaTracing.builder("conea-api")
                    .config(Map.of("OTEL_TRACES_SAMPLER", "sometimes"))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sometimes");
    assertThatThrownBy(() -> ConeaTracing.builder(" "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ConeaTracing.builder("a").shutdownTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ConeaTracing.builder("a").addSpanProcessor(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("spanProcessor");
  }

  @Test
  void shutdownTimeoutTooLongToWaitInNanosecondsFailsAtConfiguration() {
    assertThatThrownBy(
            () -> ConeaTracing.builder("conea-api").shutdownTimeout(Duration.ofDays(365L * 1000)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("shutdownTimeout must be at most")
        .hasMessageContaining("Long.MAX_VALUE nanoseconds");
    assertThatThrownBy(
            () ->
                ConeaTracing.builder("conea-api")
                    .shutdownTimeout(Duration.ofSeconds(Long.MAX_VALUE)))
        .isInstanceOf(IllegalArgumentException.class);
    // The longest accepted timeout still lets close() wait for, and finish, the shutdown.
    List<String> ended = new CopyOnWriteArrayList<>();
    AtomicBoolean shutDown = new AtomicBoolean();
    SpanProcessor recorder =
        new SpanProcessor() {
          @Override
          public void onStart(Context parentContext, ReadWriteSpan span) {}

          @Override
          public boolean isStartRequired() {
            return false;
          }

          @Override
          public void onEnd(ReadableSpan span) {
            ended.add(span.getName());
          }

          @Override
          public boolean isEndRequired() {
            return true;
          }

          @Override
          public CompletableResultCode shutdown() {
            shutDown.set(true);
            return CompletableResultCode.ofSuccess();
          }
        };
    ConeaTracing tracing =
        ConeaTracing.builder("conea-api")
            .config(Map.of("OTEL_TRACES_EXPORTER", "none", "OTEL_TRACES_SAMPLER", "always_on"))
            .addSpanProcessor(recorder)
            .shutdownTimeout(Duration.ofNanos(Long.MAX_VALUE))
            .build();
    emit(tracing, "before-close");
    tracing.close();
    emit(tracing, "after-close"); // a shut-down SDK no longer records
    assertThat(shutDown).isTrue();
    assertThat(ended).containsExactly("before-close");
  }

  @Test
  void givenOpenTelemetryIsUsedAsIsAndNotShutDown() {
    TestTelemetry telemetry = TestTelemetry.alwaysOn();
    try {
      OpenTelemetry given = telemetry.api();
      ConeaTracing tracing = ConeaTracing.create(given);
      tracing.close();
      assertThat(tracing.openTelemetry()).isSameAs(given);
      emit(tracing, "still-alive");
      assertThat(telemetry.finishedSpans()).hasSize(1);
    } finally {
      telemetry.close();
    }
  }

  @Test
  void theGuidesSamplerIsKnownToReadNoAttributesAndOthersMayReadThem() {
    for (String sampler :
        new String[] {"parentbased_traceidratio", "traceidratio", "always_on", "always_off"}) {
      ConeaTracing tracing =
          ConeaTracing.builder("conea-api")
              .config(Map.of("otel.traces.exporter", "none", "otel.traces.sampler", sampler))
              .build();
      try {
        assertThat(tracing.samplerReadsAttributes()).as(sampler).isFalse();
        HttpServerTracing http =
            tracing.httpServerTracing(ConeaMetrics.create(new SimpleMeterRegistry())).build();
        assertThat(http).isNotNull();
      } finally {
        tracing.close();
      }
    }
    ConeaTracing defaults =
        ConeaTracing.builder("conea-api").config(Map.of("otel.traces.exporter", "none")).build();
    try {
      assertThat(defaults.samplerReadsAttributes()).isFalse();
    } finally {
      defaults.close();
    }
    // An SDK conea did not configure may have any sampler.
    assertThat(ConeaTracing.create(OpenTelemetry.noop()).samplerReadsAttributes()).isTrue();
  }
}
