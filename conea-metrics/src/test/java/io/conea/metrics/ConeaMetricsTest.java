package io.conea.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConeaMetricsTest {

  private static final long MS = 1_000_000L;

  private final PrometheusMetrics prometheus = PrometheusMetrics.create();

  @AfterEach
  void close() {
    prometheus.close();
  }

  private ConeaMetrics metrics() {
    return ConeaMetrics.builder(prometheus.registry()).bindJvmMetrics(false).build();
  }

  @Test
  void scrapeHasEveryGuideMeterAndOnlyMicrometersMaxGaugesBesides() {
    ConeaMetrics metrics = metrics();
    metrics.http().record("POST", "/api/v1/ai/chat", "/api/v1/ai/chat", 200, 245 * MS);
    metrics.ai().record("openai", "gpt-4", true, 245 * MS, 1000, 250, 0.0375);
    metrics.recordJob("csv-import", true);
    metrics.recordUserActivity();
    metrics.connectionOpened();

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.names())
        .containsExactlyInAnyOrder(
            "http_requests_total",
            "http_request_duration_seconds_bucket",
            "http_request_duration_seconds_count",
            "http_request_duration_seconds_sum",
            "http_request_duration_seconds_max",
            "ai_model_requests_total",
            "ai_tokens_total",
            "ai_processing_duration_seconds_bucket",
            "ai_processing_duration_seconds_count",
            "ai_processing_duration_seconds_sum",
            "ai_processing_duration_seconds_max",
            "ai_cost_usd_total",
            "data_processing_jobs_total",
            "user_activity_total",
            "tcp_connections");
    assertThat(samples.comments())
        .contains(
            "# HELP http_requests_total Total number of HTTP requests",
            "# HELP http_request_duration_seconds HTTP request latency",
            "# HELP ai_model_requests_total Total AI model requests",
            "# HELP data_processing_jobs_total Total data processing jobs",
            "# TYPE data_processing_jobs_total counter",
            "# TYPE user_activity_total counter",
            "# TYPE tcp_connections gauge");
    assertThat(samples.comments())
        .filteredOn(c -> c.startsWith("# HELP"))
        .allSatisfy(help -> assertThat(help.split(" ", 4)[3]).isNotBlank());
  }

  @Test
  void jobsAreCountedByTypeAndOutcome() {
    ConeaMetrics metrics = metrics();
    metrics.recordJob("csv-import", true);
    metrics.recordJob("csv-import", true);
    metrics.recordJob("report", false);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelKeys("data_processing_jobs_total"))
        .containsExactly(Set.of("job_type", "status"));
    assertThat(
            samples.value(
                "data_processing_jobs_total", "job_type", "csv-import", "status", "success"))
        .isEqualTo(2);
    // Both outcomes exist from the first job on, so failure-rate queries see 0 rather than nothing.
    assertThat(
            samples.value(
                "data_processing_jobs_total", "job_type", "csv-import", "status", "failure"))
        .isEqualTo(0);
    assertThat(
            samples.value("data_processing_jobs_total", "job_type", "report", "status", "failure"))
        .isEqualTo(1);
  }

  @Test
  void jobTypesPastTheCapAreRecordedAsOtherWithOneWarning() {
    ConeaMetrics metrics =
        ConeaMetrics.builder(prometheus.registry()).bindJvmMetrics(false).maxLabelValues(2).build();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      for (int i = 0; i < 50; i++) {
        metrics.recordJob("job-" + i, i % 2 == 0);
      }
      metrics.recordJob(null, true);
      metrics.recordJob("  ", true);

      assertThat(log.warnings()).hasSize(2);
      assertThat(log.warnings().get(0)).contains("More than 2 distinct job_type values");
      assertThat(log.warnings().get(1)).contains("null, blank or over-long");
    }
    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.labelValues("data_processing_jobs_total", "job_type"))
        .containsExactlyInAnyOrder("job-0", "job-1", "_OTHER");
    assertThat(samples.sum("data_processing_jobs_total")).isEqualTo(52);
  }

  @Test
  void userActivityIsCounted() {
    ConeaMetrics metrics = metrics();
    for (int i = 0; i < 3; i++) {
      metrics.recordUserActivity();
    }

    assertThat(Samples.scrape(prometheus).value("user_activity_total")).isEqualTo(3);
  }

  @Test
  void connectionGaugeFollowsOpensAndCloses() {
    ConeaMetrics metrics = metrics();
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionClosed();

    assertThat(Samples.scrape(prometheus).value("tcp_connections", "state", "established"))
        .isEqualTo(2);
  }

  @Test
  void moreClosesThanOpensLeaveTheGaugeAtZeroWithOneWarning() {
    ConeaMetrics metrics = metrics();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      metrics.connectionOpened();
      metrics.connectionClosed();
      metrics.connectionClosed();
      metrics.connectionClosed();

      assertThat(log.warnings()).hasSize(1);
      assertThat(log.warnings().get(0)).contains("connectionClosed() was called more often");
    }
    metrics.connectionOpened();
    assertThat(Samples.scrape(prometheus).value("tcp_connections", "state", "established"))
        .isEqualTo(1);
  }

  @Test
  void jvmAndProcessMetersAreBoundByDefault() {
    try (ConeaMetrics metrics = ConeaMetrics.create(prometheus.registry())) {
      Set<String> names = Samples.scrape(prometheus).names();
      assertThat(names)
          .contains(
              "jvm_memory_used_bytes",
              "jvm_gc_memory_allocated_bytes_total",
              "jvm_threads_live_threads",
              "jvm_classes_loaded_classes",
              "system_cpu_logical_processors",
              "process_cpu_usage",
              "process_uptime_seconds",
              "process_start_time_seconds",
              "process_files_open_files");
      assertThat(metrics.registry()).isSameAs(prometheus.registry());
    }
  }

  @Test
  void jvmMetersCanBeSwitchedOff() {
    metrics().recordUserActivity();

    Set<String> names = Samples.scrape(prometheus).names();
    assertThat(names).noneMatch(n -> n.startsWith("jvm_") || n.startsWith("process_"));
  }

  @Test
  void closeIsIdempotentAndRecordingGoesOnAfterIt() {
    ConeaMetrics metrics = ConeaMetrics.create(prometheus.registry());
    metrics.close();
    metrics.close();
    metrics.recordUserActivity();
    metrics.http().record("GET", "/a", "/a", 200, MS);

    Samples samples = Samples.scrape(prometheus);
    assertThat(samples.value("user_activity_total")).isEqualTo(1);
    assertThat(samples.sum("http_requests_total")).isEqualTo(1);
  }

  @Test
  void worksOnAnyMeterRegistry() {
    MeterRegistry registry = new SimpleMeterRegistry();
    ConeaMetrics metrics = ConeaMetrics.builder(registry).bindJvmMetrics(false).build();
    metrics.http().record("GET", "/a", "/a", 200, MS);
    metrics.recordJob("j", true);

    assertThat(registry.get("http.requests").tag("endpoint", "/a").counter().count()).isEqualTo(1);
    assertThat(
            registry
                .get("http.request.duration")
                .tag("method", "GET")
                .timer()
                .takeSnapshot()
                .histogramCounts())
        .hasSize(11);
    assertThat(registry.get("data.processing.jobs").tag("status", "success").counter().count())
        .isEqualTo(1);
  }

  @Test
  void aRegistryThatRejectsMetersNeverMakesRecordingThrow() {
    MeterRegistry registry = new SimpleMeterRegistry();
    registry
        .config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public Meter.Id map(Meter.Id id) {
                if (id.getName().startsWith("http")) {
                  throw new IllegalStateException("rejected by a broken filter");
                }
                return id;
              }
            });
    ConeaMetrics metrics = ConeaMetrics.builder(registry).bindJvmMetrics(false).build();
    try (LogCapture log = new LogCapture(ConeaMetrics.class)) {
      assertThatCode(
              () -> {
                for (int i = 0; i < 100; i++) {
                  metrics.http().record("GET", "/a" + (i % 3), "/", 200, MS);
                }
              })
          .doesNotThrowAnyException();

      assertThat(log.warnings())
          .hasSize(2)
          .allSatisfy(w -> assertThat(w).contains("The registry rejected meter http."));
    }
    metrics.recordJob("still-works", true);
    assertThat(
            registry
                .get("data.processing.jobs")
                .tags("job_type", "still-works", "status", "success")
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void configurationErrorsAreRejectedWithTheirReason() {
    MeterRegistry registry = new SimpleMeterRegistry();
    expect(b -> b.maxEndpoints(0), registry, "maxEndpoints must be positive, but was 0");
    expect(b -> b.maxEndpoints(-3), registry, "maxEndpoints must be positive, but was -3");
    expect(b -> b.maxLabelValues(0), registry, "maxLabelValues must be positive, but was 0");
    expect(b -> b.durationBuckets(), registry, "durationBuckets must not be empty");
    expect(
        b -> b.durationBuckets(0.1, 0.1),
        registry,
        "durationBuckets must be strictly increasing, but in [0.1, 0.1] 0.1 follows 0.1");
    expect(
        b -> b.durationBuckets(1, 0.5),
        registry,
        "durationBuckets must be strictly increasing, but in [1.0, 0.5] 0.5 follows 1.0");
    expect(
        b -> b.durationBuckets(0, 1),
        registry,
        "durationBuckets must be positive and finite, but [0.0, 1.0] has 0.0");
    expect(
        b -> b.durationBuckets(-1),
        registry,
        "durationBuckets must be positive and finite, but [-1.0] has -1.0");
    expect(
        b -> b.durationBuckets(1, Double.NaN),
        registry,
        "durationBuckets must be positive and finite, but [1.0, NaN] has NaN");
    expect(
        b -> b.durationBuckets(1, Double.POSITIVE_INFINITY),
        registry,
        "durationBuckets must be positive and finite, but [1.0, Infinity] has Infinity");
    expect(
        b -> b.durationBuckets(1e-10, 2e-10),
        registry,
        "durationBuckets must be at least one nanosecond apart, but [1.0E-10, 2.0E-10] are not");
    expect(
        b -> b.aiDurationBuckets(2, 1),
        registry,
        "aiDurationBuckets must be strictly increasing, but in [2.0, 1.0] 1.0 follows 2.0");
    expect(b -> b.routes("/a", " "), registry, "route templates must not be blank");
    expect(
        b -> b.routes("/" + "a".repeat(300)),
        registry,
        "route templates must be at most 256 characters, but one has 301");
    assertThatThrownBy(() -> ConeaMetrics.builder(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("registry");
    assertThatThrownBy(() -> ConeaMetrics.builder(registry).routes("/a", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("route template");
  }

  private static void expect(
      Consumer<ConeaMetrics.Builder> configure, MeterRegistry registry, String message) {
    assertThatThrownBy(() -> configure.accept(ConeaMetrics.builder(registry)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }

  @Test
  void customHttpBucketsReplaceTheGuideBuckets() {
    ConeaMetrics.builder(prometheus.registry())
        .bindJvmMetrics(false)
        .durationBuckets(0.1, 1)
        .build()
        .http()
        .record("GET", "/a", "/a", 200, MS);

    assertThat(
            Samples.scrape(prometheus).named("http_request_duration_seconds_bucket").stream()
                .map(s -> s.labels().get("le"))
                .collect(Collectors.toList()))
        .containsExactly("0.1", "1.0", "+Inf");
  }
}
